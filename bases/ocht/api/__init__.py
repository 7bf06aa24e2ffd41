"""The HTTP server: pipelines, runs and keys over the executor's front door.

Example:
    >>> from ocht.api import ApiSettings
    >>> ApiSettings(workers=4).workers
    4
"""

from ocht.api.app import create_app, openapi
from ocht.api.settings import ApiSettings

__all__ = ["ApiSettings", "create_app", "openapi"]

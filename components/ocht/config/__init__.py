"""Settings, profiles, overlays, ``${var}``/``${env:NAME}`` interpolation and secrets.

Example:
    >>> from ocht.config import redact
    >>> redact("token=abc123", {"abc123"})
    'token=***'
"""

from ocht.config.interpolation import Interpolation, interpolate
from ocht.config.loading import LoadedPipeline, apply_profile, deep_merge, load_pipeline, parse_set
from ocht.config.project import PROJECT_FILE, init_project, project_home, project_root
from ocht.config.settings import Settings, redact

__all__ = [
    "PROJECT_FILE",
    "Interpolation",
    "LoadedPipeline",
    "Settings",
    "apply_profile",
    "deep_merge",
    "init_project",
    "interpolate",
    "load_pipeline",
    "parse_set",
    "project_home",
    "project_root",
    "redact",
]

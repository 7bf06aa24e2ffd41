"""What every command line shares: the click group that renders errors, and the rendering.

Example:
    >>> import click
    >>> from ocht.console import OchtGroup
    >>> @click.group(cls=OchtGroup)
    ... def cli() -> None: ...
"""

from ocht.console.rendering import EXIT_CANCELLED, OchtGroup, render_error

__all__ = ["EXIT_CANCELLED", "OchtGroup", "render_error"]

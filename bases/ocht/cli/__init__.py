"""The ``ocht`` command line."""

from ocht.cli.main import cli, main

__all__ = ["cli", "main"]

"""Errors for people, as the ``ocht`` CLI shows them: code, message, hint; no traceback."""

from __future__ import annotations

import sys
import traceback

import click

from ocht.errors import report


def render_error(exc: BaseException, *, debug: bool = False) -> int:
    """Print an error for people (traceback only with ``debug``); return the exit code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    rep = report(exc)
    click.secho(f"error[{rep.code}]: {rep.headline}", fg="red", err=True, bold=True)
    for code, line in rep.details:
        click.echo(f"  {click.style(code, fg='yellow')}  {line}", err=True)
    if rep.hint and not (rep.internal and debug):
        click.echo(f"  hint: {rep.hint}", err=True)
    return rep.exit_code

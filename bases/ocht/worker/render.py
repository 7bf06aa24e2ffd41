"""Errors for people, as the ``ocht`` CLI shows them: code, message, hint; no traceback."""

from __future__ import annotations

import sys
import traceback

import click

from ocht.errors import EXIT_RUN_FAILED, InvalidPipeline, OchtError


def render_error(exc: BaseException, *, debug: bool = False) -> int:
    """Print ``exc`` on stderr (traceback only with ``debug``); return the exit code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, InvalidPipeline) and exc.issues:
        head = f"{len(exc.issues)} problems" if len(exc.issues) > 1 else exc.issues[0].render()
        code = exc.code if len(exc.issues) > 1 else exc.issues[0].code
        click.secho(f"error[{code}]: {head}", fg="red", err=True, bold=True)
        if len(exc.issues) > 1:
            for issue in exc.issues:
                click.echo(f"  {issue.code}  {issue.render()}", err=True)
        return exc.exit_code
    if isinstance(exc, OchtError):
        click.secho(f"error[{exc.code}]: {exc.message}", fg="red", err=True, bold=True)
        if exc.hint:
            click.echo(f"  hint: {exc.hint}", err=True)
        return exc.exit_code
    click.secho(f"error[internal]: {type(exc).__name__}: {exc}", fg="red", err=True, bold=True)
    if not debug:
        click.echo(
            "  hint: this is a bug in Ocht; run again with --debug for the traceback", err=True
        )
    return EXIT_RUN_FAILED

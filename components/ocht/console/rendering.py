"""Errors for people, as every command line shows them, and the click group that shows them.

The message and hint are printed (code first); a traceback only with ``--debug``; every
line goes through the one redaction, so no secret reaches the terminal. Importing this
module loads only click (the bricks load when an error is rendered). A Rust panic
from Polars is never shown as such: :func:`ocht.errors.report` maps it to a stable code.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any

import click

#: the exit status of a run stopped by Ctrl-C (128 + SIGINT), in every base
EXIT_CANCELLED = 130


def render_error(exc: BaseException, *, debug: bool = False) -> int:
    """Print an error for people (traceback only with ``debug``); return the exit code.

    Example:
        >>> from ocht.errors import OchtError
        >>> render_error(OchtError("boom", hint="try again"))
        1
    """
    from ocht.errors import report  # here, not at import: `--help` loads only click
    from ocht.observability import redact

    if debug:
        sys.stderr.write(redact("".join(traceback.format_exception(exc))))
    rep = report(exc)
    click.secho(f"error[{rep.code}]: {redact(rep.headline)}", fg="red", err=True, bold=True)
    for code, line in rep.details:
        click.echo(f"  {click.style(code, fg='yellow')}  {redact(line)}", err=True)
    if rep.hint and not (rep.internal and debug):
        click.echo(f"  hint: {redact(rep.hint)}", err=True)
    return rep.exit_code


class OchtGroup(click.Group):
    """A click group whose commands fail the Ocht way: message and hint, no traceback.

    Ctrl-C prints ``cancelled`` and exits 130; any other exception is rendered by
    :func:`render_error` with the exit code it carries. ``--debug`` is read from
    ``ctx.obj["debug"]``.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("cancelled", err=True)
            ctx.exit(EXIT_CANCELLED)
        except (SystemExit, GeneratorExit):
            raise
        except BaseException as exc:  # every failure (Rust panics too): render, exit code
            debug = bool(ctx.obj and ctx.obj.get("debug"))
            ctx.exit(render_error(exc, debug=debug))

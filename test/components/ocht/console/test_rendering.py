import click
import polars as pl
import pytest
from click.testing import CliRunner

import ocht.console
from ocht.console import OchtGroup
from ocht.errors import OchtError, SourceUnreachable
from ocht.observability import add_secrets, forget_secrets

CANARY = "cnSECRETq7"


@pytest.fixture(autouse=True)
def _clean():
    forget_secrets()
    yield
    forget_secrets()


def make_cli(exc: BaseException) -> click.Group:
    @click.group(cls=OchtGroup)
    @click.option("--debug", is_flag=True)
    @click.pass_context
    def cli(ctx: click.Context, debug: bool) -> None:
        ctx.obj = {"debug": debug}

    @cli.command()
    def go() -> None:
        raise exc

    return cli


def test_public_names() -> None:
    assert sorted(ocht.console.__all__) == ["EXIT_CANCELLED", "OchtGroup", "render_error"]


def test_an_ocht_error_is_code_message_hint_and_exit_code() -> None:
    result = CliRunner().invoke(make_cli(SourceUnreachable("gone", hint="look")), ["go"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["error[source-unreachable]: gone", "  hint: look"]


def test_secrets_are_masked_in_message_hint_and_debug_traceback() -> None:
    add_secrets({CANARY})
    exc = OchtError(f"unknown column '{CANARY}'", hint=f"postgresql://u:{CANARY}x@h/db")
    for args in (["go"], ["--debug", "go"]):
        result = CliRunner().invoke(make_cli(exc), args)
        assert CANARY not in result.output + result.stderr
        assert "unknown column '***'" in result.stderr


def test_ctrl_c_is_exit_130() -> None:
    result = CliRunner().invoke(make_cli(KeyboardInterrupt()), ["go"])
    assert result.exit_code == 130
    assert "cancelled" in result.stderr


def test_a_rust_panic_is_a_stable_error_without_panic_text() -> None:
    # Polars' own panic type (a BaseException, which `except Exception` would miss)
    panic = pl.exceptions.PanicException("called `Option::unwrap()` on a `None` value")
    result = CliRunner().invoke(make_cli(panic), ["go"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error[engine-failed]: the data engine failed")
    assert "unwrap" not in result.stderr and "Traceback" not in result.stderr
    debug = CliRunner().invoke(make_cli(panic), ["--debug", "go"])
    assert "unwrap" in debug.stderr  # the engine's message only with --debug

import io
import json

import pytest
import structlog

from ocht.observability import (
    add_secrets,
    configure_logging,
    forget_secrets,
    get_logger,
    redact,
    redact_value,
    url_hint,
)

CANARY = "cdSECRETa1"


@pytest.fixture(autouse=True)
def _clean():
    forget_secrets()
    yield
    forget_secrets()
    structlog.reset_defaults()


@pytest.mark.parametrize(
    "text",
    [
        f"postgresql+psycopg://etl:{CANARY}@127.0.0.1:5433/shop",
        f"postgresql+psycopg://etl:pre@{CANARY}@127.0.0.1:5433/shop",
        f"postgresql://etl:{CANARY}@x@y@db/shop?sslmode=require",
        f"failed to resolve host 'mysql://u:a:{CANARY}@db'",
        f"dsn host=db password={CANARY} user=u",
        f"https://h/x?token={CANARY}&page=2",
        f"Authorization: Bearer {CANARY}",
        f'{{"api_key": "{CANARY}"}}',
    ],
)
def test_unregistered_secrets_in_urls_and_pairs_are_masked(text: str) -> None:
    out = redact(text)
    assert CANARY not in out
    assert "***" in out


def test_a_password_with_at_signs_is_masked_whole_and_the_host_kept() -> None:
    out = redact("cannot connect to postgresql://etl:ab@cd@127.0.0.1:5433/shop: refused")
    assert out == "cannot connect to postgresql://etl:***@127.0.0.1:5433/shop: refused"


def test_registered_values_are_masked_in_every_form() -> None:
    secret = "p@ss w/rd'x"
    add_secrets({secret})
    for form in [secret, "p%40ss%20w%2Frd%27x", "p%40ss+w%2Frd%27x", "p@ss w/rd''x"]:
        assert redact(f"unknown column '{form}' in step f") == "unknown column '***' in step f"


def test_short_values_are_not_registered() -> None:
    add_secrets({"ab", ""})
    assert redact("ab cd") == "ab cd"


def test_nested_values_are_redacted() -> None:
    add_secrets({CANARY})
    got = redact_value({"a": [CANARY, {"b": (1, f"x{CANARY}")}], "n": 3})
    assert got == {"a": ["***", {"b": [1, "x***"]}], "n": 3}


def test_text_without_secrets_is_unchanged() -> None:
    text = "read 3 rows from data/orders.csv (https://example.com/x) at 12:00"
    assert redact(text) == text


def test_log_lines_and_their_tracebacks_are_redacted() -> None:
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    add_secrets({CANARY})
    try:
        raise RuntimeError(f"boom {CANARY} postgresql://u:other-pw@h/db")
    except RuntimeError:
        get_logger().error("failed", detail=[CANARY], exc_info=True)
    text = out.getvalue()
    assert CANARY not in text and "other-pw" not in text
    event = json.loads(text)
    assert "RuntimeError" in event["exception"]


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:a@b@h/db", "postgresql://u:a/b@h/db", "postgresql://u:a:b@h/db"],
)
def test_urls_broken_by_their_password_get_a_hint(url: str) -> None:
    hint = url_hint(url)
    assert hint is not None and "percent-encode" in hint


def test_well_formed_urls_get_no_hint() -> None:
    assert url_hint("postgresql://u:a%40b@h:5432/db?x=1") is None
    assert url_hint("postgresql://h/db") is None
    assert url_hint("postgresql://u:p@h/db?application_name=a@b") is None  # '@' in the query

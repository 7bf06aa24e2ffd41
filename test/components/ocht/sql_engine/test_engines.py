import socket

import pytest
import sqlalchemy as sa

import ocht.sql_engine
from ocht.observability import forget_secrets, redact, registered_secrets
from ocht.sql_engine import create_engine, parse_url, reason, redact_url


@pytest.fixture(autouse=True)
def _clean():
    forget_secrets()
    yield
    forget_secrets()


def test_public_names() -> None:
    assert sorted(ocht.sql_engine.__all__) == [
        "create_engine",
        "parse_url",
        "reason",
        "redact_url",
        "sqlite_transactions",
    ]


def test_a_password_with_an_at_sign_is_refused_before_anything_connects() -> None:
    with pytest.raises(ValueError, match="percent-encode") as info:
        parse_url("postgresql://etl:cd@SECRETa1@127.0.0.1:5433/shop")
    text = str(info.value)
    assert "SECRETa1" not in text
    assert "percent-encode" in text and "%40" in text


def test_a_percent_encoded_password_parses_and_is_registered() -> None:
    url = parse_url("postgresql://etl:cd%40SECRETa1@127.0.0.1:5433/shop")
    assert url.password == "cd@SECRETa1" and url.host == "127.0.0.1"
    assert url.drivername == "postgresql+psycopg"
    assert "cd@SECRETa1" in registered_secrets()
    assert redact("auth failed for cd@SECRETa1") == "auth failed for ***"


def test_secret_query_values_are_registered_and_hidden() -> None:
    url = parse_url("postgresql://u@h/db?sslpassword=k3yp4ss&sslmode=require")
    assert "k3yp4ss" in registered_secrets()
    assert redact_url(url) == "postgresql+psycopg://u@h/db?sslmode=require&sslpassword=***"


def test_unparsable_url_is_not_echoed() -> None:
    with pytest.raises(ValueError, match="not a SQLAlchemy URL") as info:
        parse_url("not a url://u:hunter22@h")
    assert "hunter22" not in str(info.value)


def test_reason_is_the_driver_message_redacted() -> None:
    parse_url("postgresql://u:pw-9x7@h/db")
    exc = sa.exc.OperationalError("SELECT 1", {}, Exception("auth failed for pw-9x7\nDETAIL x"))
    assert reason(exc) == "auth failed for *** DETAIL x"


def test_sqlite_engine_has_real_transactions_for_ddl(tmp_path) -> None:
    engine = create_engine(parse_url("sqlite:///rel/x.db"), base_dir=tmp_path)
    assert (tmp_path / "rel").is_dir()

    def create_then_fail() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (a int)")
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError, match="roll back"):
        create_then_fail()
    with engine.connect() as conn:
        assert sa.inspect(conn).get_table_names() == []
    engine.dispose()


def test_sqlite_foreign_keys_on_request(tmp_path) -> None:
    engine = create_engine(parse_url(f"sqlite:///{tmp_path}/f.db"), foreign_keys=True)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_unreachable_postgres_gives_a_redacted_reason() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    engine = create_engine(parse_url(f"postgresql://u:pw-77zz@127.0.0.1:{port}/db"))
    with pytest.raises(sa.exc.OperationalError) as info:
        engine.connect()
    assert "pw-77zz" not in reason(info.value)
    engine.dispose()

"""SQLAlchemy URLs and engines shared by the store and the SQL connector.

Example:
    >>> from ocht.sql_engine import parse_url, redact_url
    >>> redact_url(parse_url("postgresql://etl:pw9@db/shop"))
    'postgresql+psycopg://etl:***@db/shop'
"""

from ocht.sql_engine.engines import (
    create_engine,
    parse_url,
    reason,
    redact_url,
    sqlite_transactions,
)

__all__ = ["create_engine", "parse_url", "reason", "redact_url", "sqlite_transactions"]

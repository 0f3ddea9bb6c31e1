"""Database engines from the config's URL: SQLite embedded by default, PostgreSQL in production."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

SUPPORTED_BACKENDS = ("sqlite", "postgresql")


def check_url(url: str) -> str:
    """Return ``url`` if SQLAlchemy can parse it and its backend is supported; else ValueError."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {exc}") from None
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"unsupported database {parsed.get_backend_name()!r}: "
            "use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
        )
    return url


def make_engine(url: str) -> Engine:
    """An engine with sane defaults: foreign keys and WAL on SQLite, pre-ping on PostgreSQL."""
    check_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    return engine

"""Database engines from a URL: SQLite embedded by default, PostgreSQL in production."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
# dialect[+driver]://rest, as SQLAlchemy spells URLs (checked without importing it: the
# config is loaded by every command, most of which never touch the database)
_URL_RE = re.compile(r"^(?P<backend>[a-z][a-z0-9]*)(\+[a-z0-9_]+)?://(?P<rest>.*)$", re.I)


def check_url(url: str) -> str:
    """Return ``url`` if it is a database URL of a supported backend; else ValueError."""
    m = _URL_RE.match(url.strip())
    if m is None:
        raise ValueError(
            f"not a database URL: {url!r}; use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
        )
    backend = m.group("backend").lower()
    if backend not in SUPPORTED_BACKENDS:
        raise ValueError(
            f"unsupported database {backend!r}: "
            "use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB"
        )
    return url


def make_engine(url: str) -> Engine:
    """An engine with sane defaults: foreign keys and WAL on SQLite, pre-ping on PostgreSQL."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    check_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30.0, "check_same_thread": False}
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # SQLAlchemy's recipe: take transaction control from pysqlite, then begin each
            # transaction IMMEDIATE (the write lock up front), so that SQLite transactions are
            # serialisable and a read-then-write never fails half-way with "database is locked".
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def insert_ignoring_conflicts(
    session: Any, table: Any, values: dict[str, Any], **conflict: Any
) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` for the session's database (PostgreSQL or SQLite):
    the statement every "exactly once" rule here rests on. ``conflict`` goes to
    ``on_conflict_do_nothing`` (e.g. ``index_elements=[...]``); add ``.returning(...)``."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(table).values(values).on_conflict_do_nothing(**conflict)

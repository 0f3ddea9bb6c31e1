"""Database engines from the config's URL: SQLite embedded by default, PostgreSQL in production."""

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
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()

    return engine

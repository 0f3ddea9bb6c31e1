"""Database engines from a URL: SQLite embedded by default, PostgreSQL in production."""

from __future__ import annotations

import re
from pathlib import Path
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


def sqlite_beside(url: str, base: Path) -> str:
    """``url`` with a relative SQLite file (``sqlite:///FILE``) taken as relative to
    ``base`` (the config file's folder, like every other path in it), not to the working
    directory; absolute files, in-memory and ``file:`` URIs, other databases: unchanged."""
    m = _URL_RE.match(url.strip())
    if m is None or m.group("backend").lower() != "sqlite":
        return url
    rest = m.group("rest")
    if not rest.startswith("/"):
        return url  # sqlite:// (in memory) or a host part SQLAlchemy will refuse anyway
    path, sep, query = rest[1:].partition("?")
    if not path or path == ":memory:" or path.startswith(("/", "file:")):
        return url
    prefix = url.strip()[: m.start("rest")]
    return f"{prefix}/{base / path}{sep}{query}"


def make_engine(url: str) -> Engine:
    """An engine with sane defaults: foreign keys and WAL on SQLite; on PostgreSQL, pooled
    connections that the server has closed are replaced at checkout (:func:`_drop_closed`)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    check_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30.0, "check_same_thread": False}
    else:
        kwargs["pool_recycle"] = 1800  # older connections are reopened (idle timeouts, NAT)
        # Connections kept open: an overflow connection is closed when it is returned, and
        # opening one forks a PostgreSQL backend (~1 ms of its CPU), so size the pool for a
        # process's usual concurrency (the ingest runs 2 database calls at once, the
        # other routes' threads more).
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 10
    engine = sa.create_engine(parsed, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        sa.event.listen(engine, "checkout", _drop_closed)
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


def _drop_closed(dbapi_conn: Any, _record: Any, _proxy: Any) -> None:
    """Instead of ``pool_pre_ping`` (a ``SELECT 1`` round trip on every checkout): an idle
    PostgreSQL connection has nothing to read, so a readable socket means the server closed
    it (a restart, an administrator's ``pg_terminate_backend``) or sent a notice; either
    way the pool opens a fresh connection instead (``DisconnectionError``). One ``poll``
    system call, no round trip. A connection that dies between checkout and use still fails
    its request once, and invalidates the pool's other connections from before."""
    import select

    from sqlalchemy.exc import DisconnectionError

    if getattr(dbapi_conn, "closed", False) or getattr(dbapi_conn, "broken", False):
        raise DisconnectionError("the connection is closed")
    try:
        fd = dbapi_conn.fileno()
    except Exception:  # psycopg raises OperationalError on a closed connection
        raise DisconnectionError("the connection has no socket") from None
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        raise DisconnectionError("the server closed the connection, or sent a notice")


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

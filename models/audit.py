"""The tamper-evident audit log: every change appended as one hash-chained entry.

Each entry's ``content`` is canonical JSON (sorted keys, UTC times) of who did what to
which record, with the values before and after; ``hash`` = SHA-256 of the previous
entry's hash followed by the content. :func:`verify` walks the chain and names the first
entry that does not fit (changed content, changed order, a gap from a deletion, a deleted
tail behind the head row).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.tables import AuditEntry, AuditHead

GENESIS = "0" * 64
_HEAD_ID = 1


def _default(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    raise TypeError(f"audit: cannot record a {type(value).__name__}")


def canonical(obj: object) -> str:
    return json.dumps(
        obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default
    )


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def record(
    session: Session,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> int:
    """:func:`append` in the session's transaction."""
    return append(
        session.connection(),
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )


def append(
    conn: sa.Connection,
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> int:
    """Append one entry in the connection's transaction and return its ``seq``.

    The head row stays locked until the caller commits, so call this last, just before the
    commit. The content is serialised before the lock is taken (``seq`` is its last key, so
    it is added as text). On PostgreSQL one statement locks the head, hashes the entry
    (``sha256`` in the server), inserts it and moves the head: the chain's one global
    critical section is that statement and the commit, with no round trip to Python
    inside it. SQLite (one writer at a time anyway) reads the head and hashes here.
    """
    body = {
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": before,
        "after": after,
    }
    prefix = canonical(body)[:-1] + ',"seq":'  # "seq" sorts after every other key
    cols = {"at": at, "actor": actor, "action": action, "entity": entity}
    cols["entity_id"] = str(entity_id)
    if conn.dialect.name == "postgresql":
        seq = conn.execute(_APPEND_PG, {**cols, "prefix": prefix}).scalar_one_or_none()
        if seq is None:  # no head row yet
            _create_head(conn)
            seq = conn.execute(_APPEND_PG, {**cols, "prefix": prefix}).scalar_one()
        return int(seq)
    head = conn.execute(_LOCK_HEAD).one_or_none()
    if head is None:
        _create_head(conn)
        head = conn.execute(_LOCK_HEAD).one()
    seq = head.seq + 1
    content = f"{prefix}{seq}}}"
    digest = chain_hash(head.hash, content)
    conn.execute(
        _ENTRY, {**cols, "seq": seq, "content": content, "prev_hash": head.hash, "hash": digest}
    )
    conn.execute(_MOVE, {"new_seq": seq, "new_hash": digest})
    return seq


def entity_id_prefix(
    *,
    at: dt.datetime,
    actor: str,
    action: str,
    entity: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> str:
    """An entry's canonical content up to its entity id, for a statement that appends the
    entry itself (:data:`APPEND_CTE_PG`) while it creates the entity: ``entity_id`` and
    ``seq`` sort after every other key, so the content is this prefix, the id, then
    ``","seq":N}`` — exactly what :func:`append` would have hashed."""
    body = {"at": at, "actor": actor, "action": action, "entity": entity}
    body |= {"before": before, "after": after}
    return canonical(body)[:-1] + ',"entity_id":"'


# :func:`append` as CTEs for a PostgreSQL statement that creates the entity in the same
# statement: ``{source}`` is a CTE giving one row, ``{entity_id}`` its id column; binds
# :audit_prefix (from entity_id_prefix), :audit_at, :audit_actor, :audit_action and
# :audit_entity. ``audit_logged`` returns no row when there is no head row yet: the caller
# then appends with :func:`append` (which creates it). Put these CTEs last in the statement:
# the head is locked from there until the commit, as in :func:`append`.
APPEND_CTE_PG = """
    audit_old AS (SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE),
    audit_new AS (
        SELECT audit_old.seq + 1 AS seq, audit_old.hash AS prev_hash,
               CAST({entity_id} AS text) AS entity_id,
               CAST(:audit_prefix AS text) || CAST({entity_id} AS text) || '","seq":'
                   || CAST(audit_old.seq + 1 AS text) || '}}' AS content
        FROM audit_old, {source}
    ),
    audit_hashed AS (
        SELECT seq, prev_hash, entity_id, content,
               encode(sha256(convert_to(prev_hash || content, 'UTF8')), 'hex') AS hash
        FROM audit_new
    ),
    audit_moved AS (
        UPDATE audit_head SET seq = audit_hashed.seq, hash = audit_hashed.hash
        FROM audit_hashed WHERE audit_head.id = 1
    ),
    audit_logged AS (
        INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, content, prev_hash,
                               hash)
        SELECT seq, :audit_at, :audit_actor, :audit_action, :audit_entity, entity_id, content,
               prev_hash, hash
        FROM audit_hashed
        RETURNING seq
    )"""


def _table(model: type[Any]) -> sa.Table:
    table: sa.Table = model.__table__
    return table


_LOCK_HEAD = (
    sa.select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == _HEAD_ID).with_for_update()
)
_ENTRY = sa.insert(_table(AuditEntry))
_MOVE = (
    sa.update(_table(AuditHead))
    .where(AuditHead.id == _HEAD_ID)
    .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash"))
)
# chain_hash() in SQL: the locked head gives seq and prev_hash, the hash is
# hex(sha256(utf8(prev_hash || content))) and content is the prefix plus seq and "}"
_APPEND_PG = sa.text(
    """
    WITH old AS (SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE),
    new AS (
        SELECT seq + 1 AS seq, hash AS prev_hash,
               CAST(:prefix AS text) || CAST(seq + 1 AS text) || '}' AS content
        FROM old
    ),
    hashed AS (
        SELECT seq, prev_hash, content,
               encode(sha256(convert_to(prev_hash || content, 'UTF8')), 'hex') AS hash
        FROM new
    ),
    moved AS (
        UPDATE audit_head SET seq = hashed.seq, hash = hashed.hash
        FROM hashed WHERE audit_head.id = 1
    )
    INSERT INTO audit_log (seq, at, actor, action, entity, entity_id, content, prev_hash, hash)
    SELECT seq, :at, :actor, :action, :entity, :entity_id, content, prev_hash, hash FROM hashed
    RETURNING seq
    """
).bindparams(sa.bindparam("at", type_=_table(AuditEntry).c.at.type))


def _create_head(conn: sa.Connection) -> None:
    """The head row, created once; concurrent creators are absorbed by the primary key."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    values = {"id": _HEAD_ID, "seq": 0, "hash": GENESIS}
    conn.execute(insert(_table(AuditHead)).values(values).on_conflict_do_nothing())


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    verified: int
    broken_seq: int | None = None
    reason: str = ""


def _entries(session: Session, batch: int = 2000) -> Iterator[AuditEntry]:
    last = 0
    while True:
        rows = session.scalars(
            sa.select(AuditEntry).where(AuditEntry.seq > last).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


def verify(session: Session) -> VerifyResult:
    """Check the whole chain; the first entry that breaks it is named."""
    prev_hash, expected_seq, n = GENESIS, 1, 0
    for e in _entries(session):
        problem = _check_entry(e, expected_seq, prev_hash)
        if problem:
            return VerifyResult(False, n, e.seq, problem)
        prev_hash, expected_seq, n = e.hash, expected_seq + 1, n + 1
    head = session.get(AuditHead, _HEAD_ID)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != n or head_hash != prev_hash:
        return VerifyResult(
            False,
            n,
            n + 1 if head_seq > n else head_seq,
            f"the chain ends at entry {n} but its head says {head_seq}: entries were removed "
            "from the end, or the head was altered",
        )
    return VerifyResult(True, n)


def _check_entry(e: AuditEntry, expected_seq: int, prev_hash: str) -> str:
    if e.seq != expected_seq:
        return f"entry {expected_seq} is missing (next is {e.seq}): entries were deleted"
    if e.prev_hash != prev_hash:
        return "its previous-entry hash does not match: entries were reordered or replaced"
    if chain_hash(prev_hash, e.content) != e.hash:
        return "its content does not match its hash: the entry was altered"
    try:
        body = json.loads(e.content)
    except ValueError:
        return "its content is not valid JSON"
    cols = {
        "seq": e.seq,
        "actor": e.actor,
        "action": e.action,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "at": _default(e.at),
    }
    for key, value in cols.items():
        if body.get(key) != value:
            return f"its {key} column differs from the hashed content: the entry was altered"
    return ""

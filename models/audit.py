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

from models.engine import insert_ignoring_conflicts
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
) -> AuditEntry:
    """Append one entry in the caller's transaction (the head row is locked until commit)."""
    head = session.execute(
        sa.select(AuditHead).where(AuditHead.id == _HEAD_ID).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        _create_head(session)
        head = session.execute(
            sa.select(AuditHead).where(AuditHead.id == _HEAD_ID).with_for_update()
        ).scalar_one()
    seq = head.seq + 1
    body = {
        "seq": seq,
        "at": at,
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "before": before,
        "after": after,
    }
    content = canonical(body)
    digest = chain_hash(head.hash, content)
    entry = AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        content=content,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.seq, head.hash = seq, digest
    session.flush()
    return entry


def _create_head(session: Session) -> None:
    """The head row, created once; concurrent creators are absorbed by the primary key."""
    values = {"id": _HEAD_ID, "seq": 0, "hash": GENESIS}
    session.execute(insert_ignoring_conflicts(session, AuditHead, values))


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

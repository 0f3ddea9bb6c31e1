"""Delivery of queued channel messages (not the inbox): claim, send, mark, back off.

A sender claims due rows in a short transaction (``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises), leases them (``state='sending'``,
``claimed_until``), commits, sends outside any transaction, then marks each ``sent`` or
schedules a retry with exponential backoff; after ``max_attempts`` a row is ``failed``
with its reason. Two senders never send one row twice; a sender that dies mid-send leaves
a lease that expires and is claimed again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models.notify import INBOX
from models.tables import Notification

Send = Callable[[Notification], None]  # raises on failure


@dataclass(frozen=True)
class Backoff:
    first: dt.timedelta = dt.timedelta(seconds=30)
    cap: dt.timedelta = dt.timedelta(minutes=30)
    max_attempts: int = 20  # ≈ 8 h of retries at the cap
    lease: dt.timedelta = dt.timedelta(minutes=5)

    def delay(self, attempts: int) -> dt.timedelta:
        return min(self.first * (2 ** max(attempts - 1, 0)), self.cap)


def claim(session: Session, now: dt.datetime, lease: dt.timedelta, limit: int) -> list[int]:
    q = (
        sa.select(Notification)
        .where(Notification.channel != INBOX, Notification.next_attempt_at <= now)
        .where(
            sa.or_(
                Notification.state == "pending",
                sa.and_(Notification.state == "sending", Notification.claimed_until < now),
            )
        )
        .order_by(Notification.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.scalars(q).all()
    for r in rows:
        r.state, r.claimed_until, r.attempts = "sending", now + lease, r.attempts + 1
    return [r.id for r in rows]


def deliver_due(
    engine: Engine,
    senders: Mapping[str, Send],
    *,
    now: dt.datetime,
    backoff: Backoff = Backoff(),
    limit: int = 100,
) -> tuple[int, int]:
    """Send what is due; (sent, failed attempts)."""
    with Session(engine, expire_on_commit=False) as s, s.begin():
        ids = claim(s, now, backoff.lease, limit)
    sent = failed = 0
    for nid in ids:
        with Session(engine, expire_on_commit=False) as s:
            row = s.get(Notification, nid)
        assert row is not None
        error = ""
        send = senders.get(row.channel)
        try:
            if send is None:
                raise LookupError(f"no channel {row.channel!r} configured")
            send(row)
        except Exception as exc:  # any failure of a channel is retried, then reported
            error = f"{exc.__class__.__name__}: {exc}"[:2000]
        with Session(engine, expire_on_commit=False) as s, s.begin():
            row = s.get(Notification, nid, with_for_update=True)
            assert row is not None
            _mark(row, error, now, backoff)
        sent += not error
        failed += bool(error)
    return sent, failed


def _mark(row: Notification, error: str, now: dt.datetime, backoff: Backoff) -> None:
    row.claimed_until = None
    if not error:
        row.state, row.sent_at, row.last_error = "sent", now, ""
        return
    row.last_error = error
    if row.attempts >= backoff.max_attempts:
        row.state = "failed"
    else:
        row.state, row.next_attempt_at = "pending", now + backoff.delay(row.attempts)

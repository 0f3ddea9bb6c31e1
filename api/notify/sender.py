"""Delivery of queued channel messages (not the inbox): claim, send, mark, back off.

A sender claims due rows in a short transaction (``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises), leases them (``state='sending'``,
``claimed_until``), commits, sends outside any transaction, then marks each ``sent`` or
schedules a retry with exponential backoff; after ``max_attempts`` a row is ``failed``
with its reason. Two senders never send one row twice; a sender that dies mid-send leaves
a lease that expires and is claimed again.

On a digest channel the rows claimed together for one recipient (they fall due together,
at the end of the digest period) go out as one message and are marked together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models.notify_queue import INBOX
from models.notify_text import word
from models.tables import Notification

Send = Callable[[Notification], object]  # returns the endpoint's answer; raises on failure
Hold = Callable[[Notification, dt.datetime], dt.datetime]  # a retry's time, moved if need be


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
    digests: Collection[str] = frozenset(),
    hold: Hold | None = None,
) -> tuple[int, int]:
    """Send what is due; (messages sent, failed attempts). ``digests``: channel names whose
    messages to one recipient are combined; ``hold`` moves a retry's time (quiet hours)."""
    with Session(engine, expire_on_commit=False) as s, s.begin():
        ids = claim(s, now, backoff.lease, limit)
    with Session(engine, expire_on_commit=False) as s:
        rows = [s.get(Notification, nid) for nid in ids]
    sent = failed = 0
    for group in _groups([r for r in rows if r is not None], digests):
        error = _send(senders, group[0] if len(group) == 1 else digest_of(group))
        with Session(engine, expire_on_commit=False) as s, s.begin():
            for r in group:
                row = s.get(Notification, r.id, with_for_update=True)
                assert row is not None
                _mark(row, error, now, backoff, hold)
        sent += 0 if error else len(group)
        failed += len(group) if error else 0
    return sent, failed


def _send(senders: Mapping[str, Send], row: Notification) -> str:
    """'' when sent, else the reason."""
    send = senders.get(row.channel)
    try:
        if send is None:
            raise LookupError(f"no channel {row.channel!r} configured")
        send(row)
    except Exception as exc:  # any failure of a channel is retried, then reported
        return f"{exc.__class__.__name__}: {exc}"[:2000]
    return ""


def _groups(rows: list[Notification], digests: Collection[str]) -> list[list[Notification]]:
    out: dict[tuple[object, ...], list[Notification]] = {}
    for r in rows:
        together = r.channel in digests and not r.urgent
        key = (r.channel, r.user_id, r.address) if together else ("one", r.id)
        out.setdefault(key, []).append(r)
    return list(out.values())


def digest_of(rows: list[Notification]) -> Notification:
    """One message carrying ``rows`` (not stored: the rows are marked, not this)."""
    first = rows[0]
    lang = first.language
    return Notification(
        event="digest:" + ",".join(str(r.id) for r in rows), kind="digest",
        channel=first.channel, user_id=first.user_id, address=first.address, case_id=None,
        urgent=False, language=lang, subject=word(lang, "digest", n=len(rows)),
        body="\n\n".join(r.body for r in rows), link="",
        facts={"items": [{"text": r.body, "link": r.link, "event": r.event, "kind": r.kind,
                          "case": r.case_id} for r in rows]},
        state="sending", attempts=first.attempts, next_attempt_at=first.next_attempt_at,
        created_at=first.created_at,
    )  # fmt: skip


def _mark(
    row: Notification, error: str, now: dt.datetime, backoff: Backoff, hold: Hold | None = None
) -> None:
    row.claimed_until = None
    if not error:
        row.state, row.sent_at, row.last_error = "sent", now, ""
        return
    row.last_error = error
    if row.attempts >= backoff.max_attempts:
        row.state = "failed"
    else:
        retry = now + backoff.delay(row.attempts)
        row.state, row.next_attempt_at = "pending", hold(row, retry) if hold else retry

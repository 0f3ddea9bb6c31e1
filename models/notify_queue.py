"""The notification queue: inbox messages, channel messages, quiet hours and digests.

:func:`queue` is what every rule calls: one inbox message per recipient (delivered on
insert) and, per configured channel that takes the event's kind, one pending message for
a group robot / webhook, or one e-mail per recipient with an address (``notify_prefs``).
Each row's ``dedupe_key`` (``<event>|<recipient>|<channel>``) is unique and inserted with
``ON CONFLICT DO NOTHING``, so scans in several processes at once queue it exactly once.

A channel message is due at once, except:
- in the channel's quiet hours (local time), when it waits for their end, unless urgent
  (missed deadlines, missed check-ins);
- on a digest channel, when it waits for the end of the current digest period (one hour
  by default), so the sender combines the recipient's pending messages into one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.engine import insert_ignoring_conflicts
from models.notify_text import lang_of, render
from models.tables import Notification, NotifyPrefs, User

INBOX = "inbox"
KINDS = ("stage", "reject", "soon", "missed", "checkin", "offline")
DEFAULT_OFFSETS = (dt.timedelta(hours=24), dt.timedelta(hours=4))


@dataclass(frozen=True)
class ChannelRule:
    """What the rules need to know of one configured delivery channel."""

    name: str
    kind: str  # wecom | dingtalk | feishu | webhook | email
    events: frozenset[str] = frozenset(KINDS)
    language: str = "zh"  # group robots and webhooks: one message in this language
    quiet: tuple[dt.time, dt.time] | None = None  # local [start, end), may wrap midnight
    digest: bool = False

    @property
    def per_user(self) -> bool:
        """E-mail goes to each recipient; robots and webhooks post once per event."""
        return self.kind == "email"


@dataclass(frozen=True)
class NotifyPolicy:
    """Plain settings of the rules (built from the site YAML by the shell)."""

    public_url: str = ""
    offsets: tuple[dt.timedelta, ...] = DEFAULT_OFFSETS
    tz: dt.tzinfo = dt.UTC
    offline_after: dt.timedelta = dt.timedelta(minutes=2)  # without frames or heartbeats
    stale_after: dt.timedelta = dt.timedelta(seconds=120)  # heartbeats stopped: worker gone
    channels: tuple[ChannelRule, ...] = field(default_factory=tuple)
    digest_every: dt.timedelta = dt.timedelta(hours=1)


def in_quiet(t: dt.time, quiet: tuple[dt.time, dt.time]) -> bool:
    start, end = quiet
    if start <= end:
        return start <= t < end
    return t >= start or t < end  # wraps midnight: 22:00-07:00


def due_at(rule: ChannelRule, policy: NotifyPolicy, now: dt.datetime, urgent: bool) -> dt.datetime:
    """When a message queued ``now`` on ``rule``'s channel may first be sent."""
    if urgent:
        return now
    local = now.astimezone(policy.tz)
    if rule.digest:
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        periods = (local - midnight) // policy.digest_every + 1
        local = midnight + periods * policy.digest_every
    return after_quiet(local, rule.quiet, policy.tz)


def after_quiet(
    t: dt.datetime, quiet: tuple[dt.time, dt.time] | None, tz: dt.tzinfo
) -> dt.datetime:
    """``t``, or the end of the quiet hours ``t`` falls in (local time ``tz``)."""
    local = t.astimezone(tz)
    if quiet is None or not in_quiet(local.time(), quiet):
        return t
    end = dt.datetime.combine(local.date(), quiet[1], tzinfo=tz)
    return end if end > local else end + dt.timedelta(days=1)


def insert_once(session: Session, values: dict[str, Any]) -> bool:
    stmt = insert_ignoring_conflicts(
        session, Notification, values, index_elements=[Notification.dedupe_key]
    ).returning(Notification.id)
    return session.execute(stmt).scalar_one_or_none() is not None


def link_of(policy: NotifyPolicy, facts: dict[str, Any]) -> str:
    case_id = facts.get("case")
    return f"{policy.public_url}/cases/{case_id}" if case_id is not None else ""


def queue(
    session: Session,
    policy: NotifyPolicy,
    *,
    event: str,
    kind: str,
    users: Sequence[User],
    facts: dict[str, Any],
    now: dt.datetime,
    urgent: bool = False,
) -> int:
    """The inbox message per user and the channel messages of ``event``; how many were new."""
    link = link_of(policy, facts)
    made = 0
    for user in users:
        text = render(user.language, kind, facts, policy.tz)
        made += insert_once(
            session,
            dict(dedupe_key=f"{event}|u{user.id}|{INBOX}", event=event, kind=kind,
                 channel=INBOX, user_id=user.id, address="", case_id=facts.get("case"),
                 urgent=urgent, language=user.language, subject=text[:255],
                 body=f"{text}\n{link}" if link else text, link=link, facts=facts,
                 state="sent", attempts=0, next_attempt_at=now, last_error="",
                 created_at=now, sent_at=now),
        )  # fmt: skip
    for rule in policy.channels:
        if kind in rule.events:
            made += _queue_rule(session, policy, rule, event=event, kind=kind, users=users,
                                facts=facts, now=now, urgent=urgent)  # fmt: skip
    return made


def email_addresses(session: Session, users: Sequence[User]) -> dict[int, str]:
    """The users' e-mail addresses where e-mail is on."""
    ids = [u.id for u in users]
    if not ids:
        return {}
    rows = session.scalars(
        sa.select(NotifyPrefs).where(
            NotifyPrefs.user_id.in_(ids), NotifyPrefs.email_enabled, NotifyPrefs.email.is_not(None)
        )
    )
    return {p.user_id: p.email for p in rows if p.email}


def _queue_rule(
    session: Session, policy: NotifyPolicy, rule: ChannelRule, *, event: str, kind: str,
    users: Sequence[User], facts: dict[str, Any], now: dt.datetime, urgent: bool,
) -> int:  # fmt: skip
    link = link_of(policy, facts)
    due = due_at(rule, policy, now, urgent)
    if not rule.per_user:
        text = render(rule.language, kind, facts, policy.tz)
        return queue_channel(session, event=event, kind=kind, channel=rule.name, text=text,
                             now=now, facts=facts, urgent=urgent, link=link,
                             language=lang_of(rule.language), due=due)  # fmt: skip
    made = 0
    addresses = email_addresses(session, users)
    for user in users:
        if user.id not in addresses:
            continue
        text = render(user.language, kind, facts, policy.tz)
        made += queue_channel(session, event=event, kind=kind, channel=rule.name, text=text,
                              now=now, user_id=user.id, address=addresses[user.id],
                              facts=facts, urgent=urgent, link=link,
                              language=lang_of(user.language), due=due)  # fmt: skip
    return made


def queue_channel(
    session: Session, *, event: str, kind: str, channel: str, text: str, now: dt.datetime,
    user_id: int | None = None, address: str = "", facts: dict[str, Any] | None = None,
    urgent: bool = False, link: str = "", language: str = "zh", due: dt.datetime | None = None,
) -> bool:  # fmt: skip
    """One message for a delivery channel (robot, webhook, e-mail), pending until sent:
    ``body`` is the text, ``link`` the case page; due at ``due`` (default ``now``)."""
    who = f"u{user_id}" if user_id is not None else "group"
    return insert_once(
        session,
        dict(dedupe_key=f"{event}|{who}|{channel}", event=event, kind=kind, channel=channel,
             user_id=user_id, address=address, case_id=(facts or {}).get("case"), urgent=urgent,
             language=language, subject=text[:255], body=text, link=link, facts=facts or {},
             state="pending", attempts=0, next_attempt_at=due or now, last_error="",
             created_at=now),
    )  # fmt: skip


def inbox(session: Session, user_id: int, limit: int = 50) -> tuple[list[Notification], int]:
    """A user's newest inbox messages and their unread count."""
    rows = session.scalars(
        sa.select(Notification)
        .where(Notification.user_id == user_id, Notification.channel == INBOX)
        .order_by(Notification.id.desc())
        .limit(limit)
    ).all()
    return list(rows), unread_count(session, user_id)


def unread_count(session: Session, user_id: int) -> int:
    """Unread inbox messages of a user (for the page header)."""
    n = session.scalar(
        sa.select(sa.func.count()).where(
            Notification.user_id == user_id,
            Notification.channel == INBOX,
            Notification.read_at.is_(None),
        )
    )
    return int(n or 0)


def mark_read(session: Session, user_id: int, notification_id: int, now: dt.datetime) -> bool:
    """Mark one of the user's messages read; False when it is not theirs (or not there)."""
    row = session.get(Notification, notification_id)
    if row is None or row.user_id != user_id or row.channel != INBOX:
        return False
    if row.read_at is None:
        row.read_at = now
    return True


def set_email(
    session: Session, user_id: int, email: str | None, enabled: bool = True
) -> NotifyPrefs:
    """A user's e-mail address (``None`` removes it) and whether e-mail is on."""
    prefs = session.get(NotifyPrefs, user_id)
    if prefs is None:
        prefs = NotifyPrefs(user_id=user_id, email=email, email_enabled=enabled)
        session.add(prefs)
    else:
        prefs.email, prefs.email_enabled = email, enabled
    session.flush()
    return prefs


def prefs_of(session: Session, user_id: int) -> dict[str, Any]:
    prefs = session.get(NotifyPrefs, user_id)
    if prefs is None:
        return {"email": None, "email_enabled": False}
    return {"email": prefs.email, "email_enabled": bool(prefs.email_enabled and prefs.email)}

"""Who hears of what: notification rules as plain code, queued into ``notifications``.

:func:`scan` reads the case timeline since a cursor (restart-safe, no hook in the services)
and the open stage runs, and queues one in-page inbox message per event per recipient.
Each message's ``dedupe_key`` is unique and inserted with ``ON CONFLICT DO NOTHING``, so
scans in several processes at once queue each message exactly once.

The queue itself (inbox and channel messages, quiet hours, digests) is
:mod:`models.notify_queue`, the words :mod:`models.notify_text`; both are re-exported here.

Rules:
- a case entering a stage: the users holding the stage's role in the case's unit or an
  ancestor unit (a ``reject`` instead tells the rectifiers, with the reason);
- a deadline approaching: the run's role, at each offset before the deadline, once each
  (only the nearest offset that is due, so a late scan does not send stale reminders);
- a deadline missed (an overdue accountability record): the role and the accountability
  office; a village missing its check-in: its inspectors and the town's case roles;
- a camera offline longer than ``offline_after``: admins and the operators of its unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.engine import insert_ignoring_conflicts
from models.enums import STAGE_ROLE, AccountabilityKind, Role, Stage
from models.notify_queue import (
    DEFAULT_OFFSETS,
    INBOX,
    KINDS,
    ChannelRule,
    NotifyPolicy,
    due_at,
    inbox,
    mark_read,
    prefs_of,
    queue,
    queue_channel,
    set_email,
    unread_count,
)
from models.notify_text import render
from models.tables import (
    Accountability,
    Camera,
    Case,
    CaseEvent,
    Grant,
    NotifyCursor,
    StageRun,
    Unit,
    User,
)
from models.workflow import READ_ROLES

__all__ = [
    "DEFAULT_OFFSETS",
    "INBOX",
    "KINDS",
    "ChannelRule",
    "NotifyPolicy",
    "due_at",
    "inbox",
    "mark_read",
    "prefs_of",
    "queue",
    "queue_channel",
    "render",
    "scan",
    "set_email",
    "unread_count",
]

REPLAY_WINDOW = dt.timedelta(minutes=10)  # events committed late behind the cursor


def ancestors(path: str) -> list[str]:
    """``a/b/c`` → ``a``, ``a/b``, ``a/b/c``."""
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def holders(session: Session, role: Role, unit_path: str) -> list[User]:
    """Active users holding ``role`` in ``unit_path`` or an ancestor unit, by id."""
    q = (
        sa.select(User)
        .join(Grant, Grant.user_id == User.id)
        .join(Unit, Unit.id == Grant.unit_id)
        .where(Grant.role == str(role), Unit.path.in_(ancestors(unit_path)), User.active)
        .order_by(User.id)
        .distinct()
    )
    return list(session.scalars(q))


def _cursor(session: Session, name: str) -> NotifyCursor:
    row = session.get(NotifyCursor, name, with_for_update=True)
    if row is None:
        start = {"name": name, "last_id": 0}
        session.execute(insert_ignoring_conflicts(session, NotifyCursor, start))
        row = session.get(NotifyCursor, name, with_for_update=True)
    assert row is not None
    return row


def _case_facts(session: Session, case: Case, stage: str, at: dt.datetime) -> dict[str, Any]:
    """The case's facts as of entering ``stage`` at ``at``: that stage run's deadline."""
    unit = session.get(Unit, case.unit_id)
    run_deadline = session.scalar(
        sa.select(StageRun.deadline_at)
        .where(StageRun.case_id == case.id, StageRun.stage == str(stage))
        .where(StageRun.started_at <= at)
        .order_by(StageRun.started_at.desc(), StageRun.id.desc())
        .limit(1)
    )
    if run_deadline is None and case.stage == str(stage):
        run_deadline = case.deadline_at
    deadline = run_deadline.isoformat() if run_deadline else ""
    return {"case": case.id, "stage": stage, "unit": unit.path if unit else "",
            "deadline": deadline}  # fmt: skip


def scan_events(session: Session, policy: NotifyPolicy, *, now: dt.datetime) -> int:
    """Stage entries and rejects from ``case_events`` since the cursor; count new messages."""
    cur = _cursor(session, "case_events")
    rows = session.execute(
        sa.select(CaseEvent, Case)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(sa.or_(CaseEvent.id > cur.last_id, CaseEvent.at >= now - REPLAY_WINDOW))
        .where(CaseEvent.to_stage.in_([str(s) for s in STAGE_ROLE]))
        .order_by(CaseEvent.id)
    ).all()
    made = 0
    for ev, case in rows:
        stage = Stage(str(ev.to_stage))
        facts = _case_facts(session, case, stage, ev.at)
        if ev.transition == "reject":
            facts["reason"] = ev.reason
            users = holders(session, Role.RECTIFIER, facts["unit"])
            made += queue(session, policy, event=f"reject:{ev.id}", kind="reject",
                          users=users, facts=facts, now=now)  # fmt: skip
            continue
        users = holders(session, STAGE_ROLE[stage], facts["unit"])
        made += queue(session, policy, event=f"stage:{ev.id}", kind="stage", users=users,
                      facts=facts, now=now)  # fmt: skip
        cur.last_id = max(cur.last_id, ev.id)
    if rows:
        cur.last_id = max(cur.last_id, max(ev.id for ev, _ in rows))
    return made


def due_offset(
    run: StageRun, offsets: Sequence[dt.timedelta], now: dt.datetime
) -> dt.timedelta | None:
    """The nearest offset whose reminder is due for ``run`` now, if any."""
    if now >= run.deadline_at:
        return None
    due = [
        o for o in offsets if run.deadline_at - o <= now and run.started_at < run.deadline_at - o
    ]
    return min(due) if due else None


def scan_deadlines(session: Session, policy: NotifyPolicy, *, now: dt.datetime) -> int:
    """Reminders before open stage runs' deadlines, each offset once; count new messages."""
    horizon = now + max(policy.offsets, default=dt.timedelta(0))
    runs = session.scalars(
        sa.select(StageRun)
        .where(StageRun.ended_at.is_(None), StageRun.deadline_at > now)
        .where(StageRun.deadline_at <= horizon)
        .order_by(StageRun.id)
    ).all()
    made = 0
    for run in runs:
        offset = due_offset(run, policy.offsets, now)
        if offset is None:
            continue
        unit = session.get(Unit, run.unit_id)
        path = unit.path if unit else ""
        facts = {"case": run.case_id, "stage": run.stage, "unit": path,
                 "deadline": run.deadline_at.isoformat()}  # fmt: skip
        users = holders(session, Role(run.role), path)
        event = f"soon:{run.id}:{int(offset.total_seconds())}"
        made += queue(session, policy, event=event, kind="soon", users=users, facts=facts,
                      now=now)  # fmt: skip
    return made


def _readers_of(session: Session, unit_id: int | None) -> list[User]:
    """Active users with a case-reading grant exactly on unit ``unit_id`` (the town)."""
    if unit_id is None:
        return []
    q = (
        sa.select(User)
        .join(Grant, Grant.user_id == User.id)
        .where(Grant.unit_id == unit_id, Grant.role.in_([str(r) for r in READ_ROLES]))
        .where(User.active)
        .order_by(User.id)
        .distinct()
    )
    return list(session.scalars(q))


def _merge(*groups: Sequence[User]) -> list[User]:
    seen: dict[int, User] = {}
    for g in groups:
        for u in g:
            seen.setdefault(u.id, u)
    return [seen[k] for k in sorted(seen)]


def scan_records(session: Session, policy: NotifyPolicy, *, now: dt.datetime) -> int:
    """Missed deadlines (to the role and the accountability office) and missed check-ins (to
    the village's inspectors and the town), from new accountability records."""
    cur = _cursor(session, "accountability")
    recs = session.execute(
        sa.select(Accountability, Unit)
        .join(Unit, Unit.id == Accountability.unit_id)
        .where(
            sa.or_(Accountability.id > cur.last_id, Accountability.found_at >= now - REPLAY_WINDOW)
        )
        .order_by(Accountability.id)
    ).all()
    made = 0
    for rec, unit in recs:
        facts = {"case": rec.case_id, "stage": rec.stage or "", "unit": unit.path,
                 "deadline": rec.deadline_at.isoformat(),
                 "day": rec.day.isoformat() if rec.day else ""}  # fmt: skip
        office = holders(session, Role.ACCOUNTABILITY, unit.path)
        if rec.kind == str(AccountabilityKind.CHECKIN_MISSED):
            users = _merge(holders(session, Role.INSPECTOR, unit.path),
                           _readers_of(session, unit.parent_id))  # fmt: skip
            kind = "checkin"
        else:
            users = _merge(holders(session, Role(rec.role), unit.path), office)
            kind = "missed"
        made += queue(session, policy, event=f"{kind}:{rec.id}", kind=kind, users=users,
                      facts=facts, now=now, urgent=True)  # fmt: skip
    if recs:
        cur.last_id = max(cur.last_id, max(r.id for r, _ in recs))
    return made


def scan_cameras(session: Session, policy: NotifyPolicy, *, now: dt.datetime) -> int:
    """Cameras offline (reported so, or silent) longer than ``offline_after``: the admins and
    the operators of the camera's unit, once per outage (keyed by the last sign of life)."""
    made = 0
    for cam in session.scalars(sa.select(Camera).where(Camera.active).order_by(Camera.id)):
        if cam.last_heartbeat_at is None:
            continue  # never seen: not an outage
        silent = now - cam.last_heartbeat_at > policy.stale_after
        if cam.state != "offline" and not silent:
            continue
        last = max(t for t in (cam.last_frame_at, cam.last_heartbeat_at) if t is not None)
        if cam.last_frame_at is not None and cam.state == "offline":
            last = cam.last_frame_at
        if now - last < policy.offline_after:
            continue
        unit = session.get(Unit, cam.unit_id) if cam.unit_id else None
        path = unit.path if unit else ""
        users = _merge(holders(session, Role.ADMIN, path), holders(session, Role.OPERATOR, path))
        facts = {"case": None, "camera": cam.name or cam.id, "stage": "", "unit": path,
                 "deadline": last.isoformat()}  # fmt: skip
        event = f"offline:{cam.id}:{last.isoformat()}"
        made += queue(session, policy, event=event, kind="offline", users=users, facts=facts,
                      now=now)  # fmt: skip
    return made


def scan(session: Session, policy: NotifyPolicy, *, now: dt.datetime) -> int:
    """Every rule once; the number of messages queued."""
    return (
        scan_events(session, policy, now=now)
        + scan_deadlines(session, policy, now=now)
        + scan_records(session, policy, now=now)
        + scan_cameras(session, policy, now=now)
    )

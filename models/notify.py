"""Who hears of what: notification rules as plain code, queued into ``notifications``.

:func:`scan` reads the case timeline since a cursor (restart-safe, no hook in the services)
and the open stage runs, and queues one in-page inbox message per event per recipient.
Each message's ``dedupe_key`` is unique and inserted with ``ON CONFLICT DO NOTHING``, so
scans in several processes at once queue each message exactly once.

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
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.engine import insert_ignoring_conflicts
from models.enums import STAGE_ROLE, AccountabilityKind, Role, Stage
from models.tables import (
    Accountability,
    Camera,
    Case,
    CaseEvent,
    Grant,
    Notification,
    NotifyCursor,
    StageRun,
    Unit,
    User,
)
from models.workflow import READ_ROLES

INBOX = "inbox"
DEFAULT_OFFSETS = (dt.timedelta(hours=24), dt.timedelta(hours=4))
REPLAY_WINDOW = dt.timedelta(minutes=10)  # events committed late behind the cursor

TEXT = {
    "zh": {
        "stage": "案件 #{case} 进入「{stage}」：{unit}",
        "reject": "案件 #{case} 被退回整改：{unit}（{reason}）",
        "soon": "案件 #{case}「{stage}」将于 {deadline} 到期：{unit}",
        "missed": "案件 #{case}「{stage}」已超期（期限 {deadline}）：{unit}",
        "checkin": "{unit} 未在 {deadline} 前完成每日报告（{day}）",
        "offline": "摄像头 {camera} 离线，最后画面 {deadline}：{unit}",
    },
    "en": {
        "stage": "Case #{case} entered {stage}: {unit}",
        "reject": "Case #{case} was sent back to rectify: {unit} ({reason})",
        "soon": "Case #{case} ({stage}) is due {deadline}: {unit}",
        "missed": "Case #{case} ({stage}) missed its deadline {deadline}: {unit}",
        "checkin": "{unit} did not check in by {deadline} ({day})",
        "offline": "Camera {camera} is offline since {deadline}: {unit}",
    },
}
STAGE_NAMES = {
    "zh": {
        "report": "发现报告",
        "determine": "快速认定",
        "rectify": "拆除整治",
        "verify": "监督检查",
    },
    "en": {s.value: s.value for s in Stage},
}


@dataclass(frozen=True)
class NotifyPolicy:
    """Plain settings of the rules (built from the site YAML by the shell)."""

    public_url: str = ""
    offsets: tuple[dt.timedelta, ...] = DEFAULT_OFFSETS
    tz: dt.tzinfo = dt.UTC
    offline_after: dt.timedelta = dt.timedelta(minutes=2)  # without frames or heartbeats
    stale_after: dt.timedelta = dt.timedelta(seconds=120)  # heartbeats stopped: worker gone


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


def _insert_once(session: Session, values: dict[str, Any]) -> bool:
    stmt = insert_ignoring_conflicts(
        session, Notification, values, index_elements=[Notification.dedupe_key]
    ).returning(Notification.id)
    return session.execute(stmt).scalar_one_or_none() is not None


def _render(lang: str, key: str, facts: dict[str, Any], tz: dt.tzinfo) -> str:
    lang = lang if lang in TEXT else "zh"
    shown = dict(facts)
    shown["stage"] = STAGE_NAMES[lang].get(str(facts.get("stage")), facts.get("stage"))
    if facts.get("deadline"):
        local = dt.datetime.fromisoformat(str(facts["deadline"])).astimezone(tz)
        shown["deadline"] = local.strftime("%Y-%m-%d %H:%M")
    return TEXT[lang][key].format(**shown)


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
    """One inbox message per user for ``event``; how many were new."""
    case_id = facts.get("case")
    link = f"{policy.public_url}/cases/{case_id}" if case_id is not None else ""
    made = 0
    for user in users:
        text = _render(user.language, kind, facts, policy.tz)
        made += _insert_once(
            session,
            dict(
                dedupe_key=f"{event}|u{user.id}|{INBOX}",
                event=event,
                kind=kind,
                channel=INBOX,
                user_id=user.id,
                address="",
                case_id=case_id,
                urgent=urgent,
                language=user.language,
                subject=text[:255],
                body=f"{text}\n{link}" if link else text,
                link=link,
                facts=facts,
                state="sent",
                attempts=0,
                next_attempt_at=now,
                last_error="",
                created_at=now,
                sent_at=now,
            ),
        )
    return made


def _cursor(session: Session, name: str) -> NotifyCursor:
    row = session.get(NotifyCursor, name, with_for_update=True)
    if row is None:
        start = {"name": name, "last_id": 0}
        session.execute(insert_ignoring_conflicts(session, NotifyCursor, start))
        row = session.get(NotifyCursor, name, with_for_update=True)
    assert row is not None
    return row


def _case_facts(session: Session, case: Case, stage: str) -> dict[str, Any]:
    unit = session.get(Unit, case.unit_id)
    deadline = case.deadline_at.isoformat() if case.deadline_at else ""
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
        facts = _case_facts(session, case, stage)
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


def queue_channel(
    session: Session, *, event: str, kind: str, channel: str, text: str, now: dt.datetime,
    user_id: int | None = None, address: str = "", facts: dict[str, Any] | None = None,
    urgent: bool = False, link: str = "",
) -> bool:  # fmt: skip
    """One message for a delivery channel (robot, webhook, e-mail), pending until sent."""
    who = f"u{user_id}" if user_id is not None else "group"
    return _insert_once(
        session,
        dict(dedupe_key=f"{event}|{who}|{channel}", event=event, kind=kind, channel=channel,
             user_id=user_id, address=address, case_id=(facts or {}).get("case"), urgent=urgent,
             language="zh", subject=text[:255], body=text, link=link, facts=facts or {},
             state="pending", attempts=0, next_attempt_at=now, last_error="", created_at=now),
    )  # fmt: skip

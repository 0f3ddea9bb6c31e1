"""The two scans that hold people to their deadlines; safe to run in several processes at
once: each record's ``dedupe_key`` is unique and inserted with ``ON CONFLICT DO NOTHING``,
so a race inserts it once (no lock in Python)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import audit
from models.checkins import missing
from models.engine import insert_ignoring_conflicts
from models.enums import AccountabilityKind, Resolution, Role
from models.policy import WorkflowPolicy
from models.tables import Accountability, StageRun, Unit
from models.workflow import MAX_TEXT, Actor, Refusal


def _insert_once(session: Session, values: dict[str, Any]) -> bool:
    """Insert one record unless its dedupe_key exists; True when this call inserted it."""
    stmt = insert_ignoring_conflicts(
        session, Accountability, values, index_elements=[Accountability.dedupe_key]
    ).returning(Accountability.id)
    return session.execute(stmt).scalar_one_or_none() is not None


def scan_overdue(session: Session, *, now: dt.datetime) -> int:
    """One record per stage run past its deadline (still open, or ended late); count new ones."""
    runs = session.scalars(
        sa.select(StageRun)
        .where(
            StageRun.deadline_at < now,
            sa.or_(StageRun.ended_at.is_(None), StageRun.ended_at > StageRun.deadline_at),
            ~sa.exists().where(Accountability.stage_run_id == StageRun.id),
        )
        .order_by(StageRun.id)  # one order for every process: their row locks never cross
    ).all()
    created = 0
    for run in runs:
        end = run.ended_at or now
        inserted = _insert_once(
            session,
            dict(
                dedupe_key=f"stage_run:{run.id}",
                kind=str(AccountabilityKind.STAGE_OVERDUE),
                case_id=run.case_id,
                stage_run_id=run.id,
                stage=run.stage,
                unit_id=run.unit_id,
                role=run.role,
                day=None,
                deadline_at=run.deadline_at,
                found_at=now,
                late_seconds=(end - run.deadline_at).total_seconds(),
                status="open",
                comment="",
            ),
        )
        if inserted:
            created += 1
            audit.record(
                session,
                at=now,
                actor="scheduler",
                action="accountability.overdue",
                entity="case",
                entity_id=run.case_id,
                after={"stage": run.stage, "run": run.run, "deadline": run.deadline_at},
            )
    return created


def scan_checkins(session: Session, policy: WorkflowPolicy, *, now: dt.datetime) -> int:
    """After the cut-off, one record per village that neither checked in nor zero-reported.

    Checks today (when past today's cut-off) and yesterday, so a scan missed at night is
    made up in the morning.
    """
    today = policy.calendar.local_day(now)
    created = 0
    for day in (today - dt.timedelta(days=1), today):
        cutoff = policy.cutoff(day)
        if now < cutoff:
            continue
        for row in missing(session, day, cutoff):
            inserted = _insert_once(
                session,
                dict(
                    dedupe_key=f"checkin:{row.unit_id}:{day.isoformat()}",
                    kind=str(AccountabilityKind.CHECKIN_MISSED),
                    case_id=None,
                    stage_run_id=None,
                    stage=None,
                    unit_id=row.unit_id,
                    role=str(Role.INSPECTOR),
                    day=day,
                    deadline_at=cutoff,
                    found_at=now,
                    late_seconds=(now - cutoff).total_seconds(),
                    status="open",
                    comment="",
                ),
            )
            if inserted:
                created += 1
                audit.record(
                    session,
                    at=now,
                    actor="scheduler",
                    action="accountability.checkin",
                    entity="unit",
                    entity_id=row.unit_id,
                    after={"day": day},
                )
    return created


def resolve(
    session: Session,
    record_id: int,
    *,
    actor: Actor,
    resolution: Resolution,
    comment: str,
    now: dt.datetime,
) -> Accountability:
    """The efficiency office answers a record: interviewed, sanctioned or waived, with a comment."""
    rec = session.get(Accountability, record_id, with_for_update=True)
    if rec is None:
        raise Refusal("not_found", f"no accountability record {record_id}")
    unit = session.get(Unit, rec.unit_id)
    if unit is None or not actor.has(Role.ACCOUNTABILITY, unit.path):
        raise Refusal("not_permitted", "resolving needs the accountability role for this unit")
    if rec.status != "open":
        raise Refusal("conflict", f"record {record_id} was already resolved as {rec.status}")
    if not comment.strip():
        raise Refusal("missing_field", "a resolution needs a comment")
    if len(comment) > MAX_TEXT:
        raise Refusal("invalid_field", f"comment is longer than {MAX_TEXT} characters")
    rec.status, rec.comment = str(resolution), comment
    rec.resolved_by, rec.resolved_at = actor.user_id, now
    audit.record(
        session,
        at=now,
        actor=actor.name,
        action="accountability.resolve",
        entity="accountability",
        entity_id=rec.id,
        before={"status": "open"},
        after={"status": rec.status, "comment": comment},
    )
    return rec

"""Daily check-ins: every village reports its cases of the day or a zero report (零报告)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import audit
from models.access import subtree_clause
from models.enums import CheckinKind, Role
from models.policy import WorkflowPolicy
from models.tables import Case, Checkin, Unit
from models.workflow import MAX_TEXT, Actor, Refusal, covers

VILLAGE_LEVELS = ("village", "community")


def check_in(
    session: Session,
    policy: WorkflowPolicy,
    *,
    actor: Actor,
    unit: Unit,
    now: dt.datetime,
    case_ids: Sequence[int] = (),
    note: str = "",
) -> Checkin:
    """Today's (site-local) check-in of ``unit``: a zero report when ``case_ids`` is empty."""
    if unit.level not in VILLAGE_LEVELS or not unit.active:
        raise Refusal("invalid_field", f"{unit.path} is not an active village: villages check in")
    if not actor.has(Role.INSPECTOR, unit.path):
        raise Refusal(
            "foreign_unit" if actor.grants else "not_permitted",
            f"checking in for {unit.path} needs the inspector role there",
        )
    if len(note) > MAX_TEXT:
        raise Refusal("invalid_field", f"note is longer than {MAX_TEXT} characters")
    ids = sorted(set(case_ids))
    if ids:
        rows = session.execute(
            sa.select(Case.id, Unit.path)
            .join(Unit, Unit.id == Case.unit_id)
            .where(Case.id.in_(ids))
        ).all()
        found = {cid: path for cid, path in rows}
        for cid in ids:
            if cid not in found or not covers(unit.path, found[cid]):
                raise Refusal("invalid_field", f"case {cid} is not a case of {unit.path}")
    day = policy.calendar.local_day(now)
    row = Checkin(
        unit_id=unit.id,
        day=day,
        kind=str(CheckinKind.CASES if ids else CheckinKind.ZERO),
        case_ids=ids,
        note=note,
        user_id=actor.user_id,
        at=now,
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise Refusal("conflict", f"{unit.path} has already checked in for {day}") from None
    audit.record(
        session,
        at=now,
        actor=actor.name,
        action="checkin",
        entity="unit",
        entity_id=unit.id,
        after={"day": day, "kind": row.kind, "cases": ids},
    )
    return row


@dataclass(frozen=True)
class CheckinRow:
    unit_id: int
    unit: str
    status: str  # cases | zero | missing
    case_ids: tuple[int, ...] = ()
    at: dt.datetime | None = None


def day_table(session: Session, day: dt.date, within: str | None = None) -> list[CheckinRow]:
    """Every active village (below ``within``, a unit path) and how it checked in on ``day``."""
    q = sa.select(Unit).where(Unit.level.in_(VILLAGE_LEVELS), Unit.active.is_(True))
    if within:
        q = q.where(subtree_clause(within))
    villages = session.scalars(q.order_by(Unit.path)).all()
    done = {c.unit_id: c for c in session.scalars(sa.select(Checkin).where(Checkin.day == day))}
    out = []
    for v in villages:
        c = done.get(v.id)
        if c is None:
            out.append(CheckinRow(v.id, v.path, "missing"))
        else:
            out.append(CheckinRow(v.id, v.path, c.kind, tuple(c.case_ids), c.at))
    return out


def missing(session: Session, day: dt.date, cutoff: dt.datetime) -> list[CheckinRow]:
    """Villages that owed a check-in for ``day`` (they existed by its cut-off) and gave none."""
    owed = set(session.scalars(sa.select(Unit.id).where(Unit.created_at < cutoff)))
    return [r for r in day_table(session, day) if r.status == "missing" and r.unit_id in owed]

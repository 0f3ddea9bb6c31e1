"""The efficiency office's records, and the leaders' statistics."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Principal, ServicesDep, SessionDep, http_error, require
from api.policy import endpoint
from models import scheduler, stats
from models.access import unit_by_ref
from models.enums import Resolution, Role
from models.tables import Accountability, Unit
from models.workflow import Refusal

router = APIRouter(tags=["office"])


def record_view(r: Accountability, unit: str) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "case_id": r.case_id,
        "stage": r.stage,
        "unit": unit,
        "role": r.role,
        "day": r.day.isoformat() if r.day else None,
        "deadline_at": r.deadline_at,
        "found_at": r.found_at,
        "late_hours": round(r.late_seconds / 3600, 1),
        "status": r.status,
        "comment": r.comment,
        "resolved_at": r.resolved_at,
    }


@endpoint(router, "accountability.list")
def records(
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("accountability.list"))],
    status: Annotated[str | None, Query(pattern="^(open|interviewed|sanctioned|waived)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    q = sa.select(Accountability, Unit.path).join(Unit, Unit.id == Accountability.unit_id)
    if status:
        q = q.where(Accountability.status == status)
    rows = db.execute(q.order_by(Accountability.id.desc()).limit(limit)).all()
    return [record_view(r, path) for r, path in rows if principal.actor.sees(path)]


class ResolutionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resolution: Resolution
    comment: str = Field(min_length=1, max_length=4000)


@endpoint(router, "accountability.resolve")
def resolve(
    record_id: int,
    body: ResolutionBody,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("accountability.resolve"))],
) -> dict[str, Any]:
    rec = db.get(Accountability, record_id)
    unit = db.get(Unit, rec.unit_id) if rec else None
    if rec is None or unit is None or not principal.actor.sees(unit.path):
        raise HTTPException(404, f"no accountability record {record_id}")
    db.rollback()
    try:
        with db.begin():
            done = scheduler.resolve(
                db,
                record_id,
                actor=principal.actor,
                resolution=body.resolution,
                comment=body.comment,
                now=services.clock(),
            )
            return record_view(done, unit.path)
    except Refusal as exc:
        raise http_error(exc) from None


def stats_scope(db: Any, principal: Principal, unit: str | None) -> str:
    """The unit the statistics cover: the one asked for (if visible), else the caller's own."""
    if unit:
        try:
            path: str = unit_by_ref(db, unit).path
        except Refusal:
            raise HTTPException(422, f"unit: no unit {unit!r}") from None
        if not principal.actor.sees(path):
            raise HTTPException(404, f"unit: no unit {unit!r}")
        return path
    if any(r == Role.LEADER for r, _ in principal.actor.grants):
        return str(db.scalar(sa.select(Unit.path).where(Unit.level == "district")) or "")
    paths = sorted({u for _, u in principal.actor.grants}, key=len)
    top = [p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths)]
    if len(top) != 1:
        raise HTTPException(422, "you hold grants in several units: say which with ?unit=")
    return top[0]


def compute_stats(
    services: Any, db: Any, within: str, start: dt.date, end: dt.date
) -> dict[str, Any]:
    cal = services.policy.calendar
    period = stats.Period(cal.day_start(start), cal.day_start(end + dt.timedelta(days=1)))
    now = services.clock()
    rows = stats.reviews_by_zone(db, period, within)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "unit": within,
        "cases_by_town": stats.cases_by_unit_stage(db, period, "town", within),
        "cases_by_village": stats.cases_by_unit_stage(db, period, "village", within),
        "stages": [
            dict(vars(t), on_time_rate=t.on_time_rate)
            for t in stats.stage_timing(db, period, now=now, within=within)
        ],
        "cases": vars(stats.case_timing(db, period, services.policy, within)),
        "demolished_m2_by_town": stats.demolished_by_town(
            db, period, services.policy, "month", within
        ),
        "reviews": [dict(vars(r), false_alarm_rate=r.false_alarm_rate) for r in rows],
    }


def period_params(
    services: Any, start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, dt.date]:
    today = services.policy.calendar.local_day(services.clock())
    end = end or today
    start = start or end.replace(day=1)
    if end < start or (end - start).days > 3660:
        raise HTTPException(422, "from must be on or before to, at most 10 years apart")
    return start, end


@endpoint(router, "stats.get")
def get_stats(
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("stats.get"))],
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    unit: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    start, end = period_params(services, start, end)
    return compute_stats(services, db, stats_scope(db, principal, unit), start, end)

"""The numbers the leaders ask for, as plain query functions over a period.

Periods are half-open ``[start, end)`` in UTC; units are reported by town (or village).
Percentiles are computed in Python so that SQLite and PostgreSQL answer the same.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from models.enums import STAGE_ROLE, TIMED_STAGES, Outcome, Source, Stage
from models.policy import WorkflowPolicy
from models.tables import Case, CaseEvent, StageRun, Unit


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"Period: end {self.end} must be after start {self.start}")


def _within(unit_col: Any, within: str | None) -> sa.ColumnElement[bool]:
    """``unit_col`` lies at or below the unit path ``within`` (everything when None)."""
    if not within:
        return sa.true()
    from models.access import subtree_clause

    return unit_col.in_(sa.select(Unit.id).where(subtree_clause(within)))


def _town_of(session: Session) -> dict[int, str]:
    """Unit id → the name of its town (the district's own cases under its name)."""
    units = {u.id: u for u in session.scalars(sa.select(Unit))}
    out: dict[int, str] = {}
    for uid, u in units.items():
        cur = u
        while cur.level not in ("town", "district") and cur.parent_id in units:
            cur = units[cur.parent_id]
        out[uid] = cur.name
    return out


def cases_by_unit_stage(
    session: Session, period: Period, level: str = "town", within: str | None = None
) -> dict[str, dict[str, int]]:
    """Cases opened in ``period``: unit name → stage → count (``level``: town or village)."""
    q = sa.select(Case.unit_id, Case.stage, sa.func.count()).where(
        Case.opened_at >= period.start, Case.opened_at < period.end
    )
    q = q.where(_within(Case.unit_id, within))
    rows = session.execute(q.group_by(Case.unit_id, Case.stage)).all()
    names = (
        _town_of(session)
        if level == "town"
        else {u.id: u.path.split("/", 1)[-1] for u in session.scalars(sa.select(Unit))}
    )
    out: dict[str, dict[str, int]] = defaultdict(lambda: {s.value: 0 for s in Stage})
    for unit_id, stage, n in rows:
        out[names[unit_id]][stage] += int(n)
    return dict(out)


def p90(values: Sequence[float]) -> float | None:
    """The 90th percentile (nearest rank), None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


@dataclass(frozen=True)
class StageTiming:
    stage: str
    role: str
    finished: int
    on_time: int
    overdue_open: int
    mean_hours: float | None
    p90_hours: float | None

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.finished if self.finished else None


def stage_timing(
    session: Session, period: Period, *, now: dt.datetime, within: str | None = None
) -> list[StageTiming]:
    """Per timed stage (and so per role): runs finished in ``period``, on time, durations."""
    out = []
    for stage in TIMED_STAGES:
        runs = session.scalars(
            sa.select(StageRun).where(
                StageRun.stage == stage,
                _within(StageRun.unit_id, within),
                StageRun.ended_at >= period.start,
                StageRun.ended_at < period.end,
            )
        )
        hours, on_time = [], 0
        for r in runs:
            assert r.ended_at is not None
            hours.append((r.ended_at - r.started_at).total_seconds() / 3600)
            on_time += r.ended_at <= r.deadline_at
        overdue = session.scalar(
            sa.select(sa.func.count()).where(
                StageRun.stage == stage,
                StageRun.ended_at.is_(None),
                StageRun.deadline_at < now,
                _within(StageRun.unit_id, within),
            )
        )
        out.append(
            StageTiming(
                str(stage),
                str(STAGE_ROLE[stage]),
                len(hours),
                on_time,
                int(overdue or 0),
                sum(hours) / len(hours) if hours else None,
                p90(hours),
            )
        )
    return out


@dataclass(frozen=True)
class CaseTiming:
    closed: int
    within_target: int
    mean_days: float | None
    p90_days: float | None


def case_timing(
    session: Session, period: Period, policy: WorkflowPolicy, within: str | None = None
) -> CaseTiming:
    """Cases closed in ``period``: how many within the target (7 days), mean and p90."""
    rows = session.execute(
        sa.select(Case.opened_at, Case.closed_at, Case.target_at).where(
            Case.closed_at >= period.start,
            Case.closed_at < period.end,
            _within(Case.unit_id, within),
        )
    )
    days: list[float] = []
    on_target = 0
    for opened, closed, target in rows:
        assert closed is not None  # filtered above
        days.append((closed - opened).total_seconds() / 86400)
        on_target += closed <= target
    return CaseTiming(len(days), on_target, sum(days) / len(days) if days else None, p90(days))


def demolished_by_town(
    session: Session,
    period: Period,
    policy: WorkflowPolicy,
    bucket: str = "month",
    within: str | None = None,
) -> dict[str, dict[str, float]]:
    """m² demolished (cases verified in ``period``): town → bucket (local day/month) → m²."""
    ev = aliased(CaseEvent)
    rows = session.execute(
        sa.select(Case.unit_id, Case.demolished_m2, ev.at)
        .join(ev, ev.case_id == Case.id)
        .where(
            Case.outcome == Outcome.DEMOLISHED,
            ev.transition == "verified",
            ev.at >= period.start,
            ev.at < period.end,
            _within(Case.unit_id, within),
        )
    ).all()
    towns = _town_of(session)
    fmt = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}[bucket]
    out: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for unit_id, area, at in rows:
        key = policy.calendar.local(at).strftime(fmt)
        out[towns[unit_id]][key] += float(area or 0.0)
    return {t: dict(b) for t, b in out.items()}


@dataclass(frozen=True)
class ReviewCounts:
    camera: str
    zone: str
    confirmed: int
    dismissed: int
    pending: int

    @property
    def false_alarm_rate(self) -> float | None:
        done = self.confirmed + self.dismissed
        return self.dismissed / done if done else None


def reviews_by_zone(
    session: Session, period: Period, within: str | None = None
) -> list[ReviewCounts]:
    """Camera cases opened in ``period`` per camera and zone: confirmed vs dismissed."""
    confirmed = sa.exists().where(CaseEvent.case_id == Case.id, CaseEvent.transition == "confirm")
    rows = session.execute(
        sa.select(Case.camera_id, Case.zone_id, Case.outcome, confirmed.label("c"), sa.func.count())
        .where(
            Case.source == Source.CAMERA,
            Case.opened_at >= period.start,
            Case.opened_at < period.end,
            _within(Case.unit_id, within),
        )
        .group_by(Case.camera_id, Case.zone_id, Case.outcome, "c")
    ).all()
    acc: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for cam, zone, outcome, was_confirmed, n in rows:
        slot = 1 if outcome == Outcome.DISMISSED else (0 if was_confirmed else 2)
        acc[(cam or "", zone or "")][slot] += int(n)
    return [ReviewCounts(c, z, *v) for (c, z), v in sorted(acc.items())]

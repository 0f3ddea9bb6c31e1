"""The filtered case list (shared by the list route and the exports), keyset-paginated on
``(opened_at, id)`` descending, newest first, so page 1 000 costs what page 1 costs."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import HTTPException
from sqlalchemy.orm import Session

from api.deps import Principal
from models.access import subtree_clause, unit_by_ref, visible_unit_ids
from models.tables import Case, Unit
from models.workflow import Refusal

STAGES = ("report", "determine", "rectify", "verify", "closed")


@dataclass(frozen=True)
class CaseFilter:
    stage: str | None = None
    unit: str | None = None
    camera: str | None = None
    source: str | None = None
    overdue: bool | None = None
    opened_from: dt.datetime | None = None
    opened_to: dt.datetime | None = None
    text: str | None = None


def encode_cursor(case: Case) -> str:
    raw = f"{case.opened_at.isoformat()}|{case.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> tuple[dt.datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        at, ident = raw.split("|")
        when = dt.datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, int(ident)
    except (ValueError, UnicodeDecodeError):
        raise HTTPException(422, "next: not a cursor this API gave out") from None


def case_query(
    db: Session, principal: Principal, f: CaseFilter, now: dt.datetime
) -> sa.Select[Case, str]:
    if f.stage is not None and f.stage not in STAGES:
        raise HTTPException(422, f"stage must be one of {', '.join(STAGES)}, got {f.stage!r}")
    if f.source is not None and f.source not in ("camera", "manual"):
        raise HTTPException(422, f"source must be camera or manual, got {f.source!r}")
    q = sa.select(Case, Unit.path).join(Unit, Unit.id == Case.unit_id)
    units = _unit_ids(db, principal, f)
    if units is not None:  # a plain id list: the planner then estimates the share right
        q = q.where(Case.unit_id.in_(units) if units else sa.false())
    if f.stage:
        q = q.where(Case.stage == f.stage)
    if f.camera:
        q = q.where(Case.camera_id == f.camera)
    if f.source:
        q = q.where(Case.source == f.source)
    if f.overdue is not None:
        late = sa.and_(Case.deadline_at.is_not(None), Case.deadline_at < now)
        q = q.where(late if f.overdue else sa.not_(late))
    if f.opened_from:
        q = q.where(Case.opened_at >= f.opened_from)
    if f.opened_to:
        q = q.where(Case.opened_at < f.opened_to)
    if f.text:
        like = "%" + f.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        q = q.where(
            sa.or_(Case.description.like(like, escape="\\"), Case.label.like(like, escape="\\"))
        )
    return q.order_by(Case.opened_at.desc(), Case.id.desc())


def _unit_ids(db: Session, principal: Principal, f: CaseFilter) -> list[int] | None:
    """The ids of the units whose cases the list may show (the caller's, narrowed to the
    ``unit`` filter's subtree); None for every unit."""
    visible = visible_unit_ids(principal.actor)
    ids = None if visible is None else set(db.scalars(visible))
    if f.unit:
        try:
            path = unit_by_ref(db, f.unit).path
        except Refusal:
            raise HTTPException(422, f"unit: no unit {f.unit!r}") from None
        subtree = set(db.scalars(sa.select(Unit.id).where(subtree_clause(path))))
        ids = subtree if ids is None else ids & subtree
    return None if ids is None else sorted(ids)


def page(q: sa.Select[Case, str], after: str | None, limit: int) -> sa.Select[Case, str]:
    if after:
        at, ident = decode_cursor(after)
        q = q.where(sa.or_(Case.opened_at < at, sa.and_(Case.opened_at == at, Case.id < ident)))
    return q.limit(limit + 1)

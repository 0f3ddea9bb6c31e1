"""Rows to JSON, and the scope checks every case route shares (404 outside the caller's units)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from fastapi import HTTPException
from sqlalchemy.orm import Session

from api.deps import Principal
from models import cases as case_service
from models.tables import Case, CaseEvent, Evidence, Unit, Zone
from models.workflow import TRANSITIONS, Transition


def visible_case(db: Session, principal: Principal, case_id: int) -> tuple[Case, Unit]:
    """The case if the caller may see it; a 404 otherwise (its existence stays private)."""
    case = db.get(Case, case_id)
    unit = db.get(Unit, case.unit_id) if case is not None else None
    if case is None or unit is None or not principal.actor.sees(unit.path):
        raise HTTPException(404, f"no case {case_id}")
    return case, unit


def transition_view(t: Transition) -> dict[str, Any]:
    return {
        "name": t.name,
        "label": t.label,
        "to": t.target.value,
        "needs_reason": t.needs_reason,
        "needs_comment": t.needs_comment,
        "needs_files": sorted(t.needs_files),
        "needs_area": t.needs_area,
        "takes_label": t.name == "confirm",
    }


def transitions(db: Session, principal: Principal, case: Case) -> list[dict[str, Any]]:
    return [transition_view(t) for t in case_service.transitions_for(db, case, principal.actor)]


def evidence_view(e: Evidence) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind,
        "media_type": e.media_type,
        "size": e.size,
        "sha256": e.sha256,
        "event_id": e.event_id,
        "url": f"/api/v1/evidence/{e.id}",
    }


def event_view(e: CaseEvent) -> dict[str, Any]:
    t = TRANSITIONS.get(e.transition or "")
    return {
        "id": e.id,
        "kind": e.kind,
        "transition": e.transition,
        "label": t.label if t else e.kind,
        "from": e.from_stage,
        "to": e.to_stage,
        "actor": e.actor_name,
        "at": e.at,
        "comment": e.comment,
        "reason": e.reason,
        "fields": e.fields,
        "detection_id": e.detection_id,
    }


def case_summary(case: Case, unit_path: str, now: dt.datetime) -> dict[str, Any]:
    overdue = case.deadline_at is not None and case.deadline_at < now
    return {
        "id": case.id,
        "source": case.source,
        "stage": case.stage,
        "outcome": case.outcome,
        "unit": unit_path,
        "camera": case.camera_id,
        "zone": case.zone_id,
        "label": case.label,
        "description": case.description,
        "opened_at": case.opened_at,
        "stage_started_at": case.stage_started_at,
        "deadline_at": case.deadline_at,
        "target_at": case.target_at,
        "closed_at": case.closed_at,
        "overdue": overdue,
        "seconds_left": (case.deadline_at - now).total_seconds() if case.deadline_at else None,
        "bbox": list(b) if (b := case.box()) else None,
        "lon": case.lon,
        "lat": case.lat,
        "accuracy_m": case.accuracy_m,
        "area_m2": case.area_m2,
        "demolished_m2": case.demolished_m2,
        "camera_gone_at": case.camera_gone_at,
    }


def case_detail(
    db: Session, principal: Principal, case: Case, unit: Unit, now: dt.datetime
) -> dict[str, Any]:
    files = db.scalars(sa.select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id))
    return {
        **case_summary(case, unit.path, now),
        "timeline": [event_view(e) for e in case.events],
        "evidence": [evidence_view(e) for e in files],
        "transitions": transitions(db, principal, case),
        "zone_outline": zone_outline(db, case),
    }


def zone_outline(db: Session, case: Case) -> dict[str, Any] | None:
    """The case's zone on the map: a GeoJSON Feature (Polygon, lon/lat) or None when the
    zone has no outline (its camera has no ground mapping) or the case no zone."""
    if not case.camera_id or not case.zone_id:
        return None
    row = db.execute(
        sa.select(Zone.name, Zone.outline).where(
            Zone.camera_id == case.camera_id, Zone.zone_id == case.zone_id
        )
    ).first()
    if row is None or row.outline is None:
        return None
    props = {"kind": "zone", "camera": case.camera_id, "id": case.zone_id, "name": row.name}
    return {"type": "Feature", "geometry": row.outline, "properties": props}

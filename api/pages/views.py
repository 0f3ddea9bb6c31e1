"""Small read helpers only the pages need (choices for filters, the review queue order,
the frame a detection box refers to). Visibility always goes through the caller's grants."""

from __future__ import annotations

import math
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.deps import Principal
from models.access import visible_unit_ids
from models.enums import Role
from models.tables import Camera, Case, Detection, Evidence, Unit, Zone

VILLAGE_LEVELS = ("village", "community")
REVIEW_LIMIT = 500


def unit_choices(db: Session, principal: Principal) -> list[str]:
    q = sa.select(Unit.path).where(Unit.active.is_(True))
    visible = visible_unit_ids(principal.actor)
    if visible is not None:
        q = q.where(Unit.id.in_(visible))
    return list(db.scalars(q.order_by(Unit.path)))


def camera_choices(db: Session, principal: Principal) -> list[tuple[str, str]]:
    rows = db.execute(
        sa.select(Camera.id, Camera.name, Unit.path)
        .outerjoin(Unit, Unit.id == Camera.unit_id)
        .where(Camera.active.is_(True))
        .order_by(Camera.id)
    ).all()
    return [
        (cid, name or cid) for cid, name, path in rows if not path or principal.actor.sees(path)
    ]


def review_items(db: Session, principal: Principal) -> list[int]:
    """Camera cases still in the report stage, the oldest first, that the caller may see."""
    q = sa.select(Case.id).where(Case.stage == "report", Case.source == "camera")
    visible = visible_unit_ids(principal.actor)
    if visible is not None:
        q = q.where(Case.unit_id.in_(visible))
    return list(db.scalars(q.order_by(Case.opened_at.asc(), Case.id.asc()).limit(REVIEW_LIMIT)))


def zone_name(db: Session, case: Case) -> str:
    if not case.camera_id or not case.zone_id:
        return ""
    name = db.scalar(
        sa.select(Zone.name).where(Zone.camera_id == case.camera_id, Zone.zone_id == case.zone_id)
    )
    return name or case.zone_id


def detection_frame(db: Session, case_id: int) -> dict[str, Any] | None:
    """The first detection of a camera case: its frame size (the box's coordinates) and score."""
    det = db.scalars(
        sa.select(Detection).where(Detection.case_id == case_id).order_by(Detection.id).limit(1)
    ).first()
    if det is None:
        return None
    size = det.record.get("frame_size") if isinstance(det.record, dict) else None
    ok = (
        isinstance(size, list)
        and len(size) == 2
        and all(isinstance(v, int | float) and v > 0 for v in size)
    )
    w, h = size if ok else (max(det.x2, 1.0), max(det.y2, 1.0))  # type: ignore[misc]
    return {
        "width": float(w),
        "height": float(h),
        "score": det.score,
        "label": det.label,
        "detected_at": det.detected_at,
    }


def inspector_villages(db: Session, principal: Principal) -> list[str]:
    """The villages where the caller holds the inspector role (where they report and check in)."""
    rows = db.scalars(
        sa.select(Unit.path)
        .where(Unit.level.in_(VILLAGE_LEVELS), Unit.active.is_(True))
        .order_by(Unit.path)
    )
    return [p for p in rows if principal.actor.has(Role.INSPECTOR, p)]


def latest_snapshots(db: Session, principal: Principal) -> dict[str, int]:
    """Each camera's newest snapshot evidence (its id) among the cases the caller may see."""
    q = (
        sa.select(Case.camera_id, sa.func.max(Evidence.id))
        .join(Case, Case.id == Evidence.case_id)
        .where(Evidence.kind == "snapshot", Case.camera_id.is_not(None))
        .group_by(Case.camera_id)
    )
    visible = visible_unit_ids(principal.actor)
    if visible is not None:
        q = q.where(Case.unit_id.in_(visible))
    return {str(cam): int(ev) for cam, ev in db.execute(q).all()}


NEARBY_DEG = 0.01  # about 1 km around the case
NEARBY_LIMIT = 50


def nearby_cases(db: Session, principal: Principal, case: Case) -> dict[str, Any]:
    """The case and other visible cases within ~1 km as GeoJSON, each with its position on
    a 200×120 SVG (metres, equirectangular around the case: fine at this scale)."""
    if case.lon is None or case.lat is None:
        return {"type": "FeatureCollection", "features": []}
    q = sa.select(Case).where(
        Case.lon.is_not(None), Case.lat.is_not(None),
        Case.lon.between(case.lon - NEARBY_DEG, case.lon + NEARBY_DEG),
        Case.lat.between(case.lat - NEARBY_DEG, case.lat + NEARBY_DEG),
    )  # fmt: skip
    visible = visible_unit_ids(principal.actor)
    if visible is not None:
        q = q.where(Case.unit_id.in_(visible))
    rows = [c for c in db.scalars(q.order_by(Case.id).limit(NEARBY_LIMIT)) if c.id != case.id]
    kx = 111_320.0 * math.cos(math.radians(case.lat))
    scale = 60.0 / (NEARBY_DEG * 110_540.0)  # svg units per metre: 1 km ≈ 60 units
    features = []
    for c in [case, *rows]:
        assert c.lon is not None and c.lat is not None
        x = 100 + (c.lon - case.lon) * kx * scale
        y = 60 - (c.lat - case.lat) * 110_540.0 * scale
        features.append({"type": "Feature", "id": c.id,
                         "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
                         "properties": {"stage": c.stage, "this": c.id == case.id,
                                        "x": round(x, 2), "y": round(y, 2)}})  # fmt: skip
    return {"type": "FeatureCollection", "features": features, "metres_per_unit": 1 / scale}

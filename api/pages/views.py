"""Small read helpers only the pages need (choices for filters, the review queue order,
the frame a detection box refers to). Visibility always goes through the caller's grants."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from api.deps import Principal
from api.pages.geo import MAX_ZOOM, fit, ring_centre
from api.settings import TileLayer
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


def village_zones(db: Session, villages: list[str]) -> dict[str, Any]:
    """The outlines of the active zones of these villages, as a GeoJSON FeatureCollection."""
    rows = db.execute(
        sa.select(Zone.camera_id, Zone.zone_id, Zone.name, Zone.outline)
        .join(Unit, Unit.id == Zone.unit_id)
        .where(Unit.path.in_(villages), Zone.active.is_(True), Zone.outline.is_not(None))
        .order_by(Zone.camera_id, Zone.zone_id)
    ).all()
    features = [
        {
            "type": "Feature",
            "geometry": outline,
            "properties": {"kind": "zone", "camera": cam, "id": zid, "name": name},
        }
        for cam, zid, name, outline in rows
    ]
    return {"type": "FeatureCollection", "features": features}


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


def _nearby(db: Session, principal: Principal, case: Case, lon: float, lat: float) -> list[Case]:
    q = sa.select(Case).where(
        Case.lon.is_not(None),
        Case.lat.is_not(None),
        Case.lon.between(lon - NEARBY_DEG, lon + NEARBY_DEG),
        Case.lat.between(lat - NEARBY_DEG, lat + NEARBY_DEG),
        Case.id != case.id,
    )
    visible = visible_unit_ids(principal.actor)
    if visible is not None:
        q = q.where(Case.unit_id.in_(visible))
    return list(db.scalars(q.order_by(Case.id).limit(NEARBY_LIMIT)))


def _ll(c: Case) -> tuple[float, float]:
    assert c.lon is not None and c.lat is not None
    return c.lon, c.lat


def _point(c: Case, this: bool) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": c.id,
        "geometry": {"type": "Point", "coordinates": [c.lon, c.lat]},
        "properties": {"kind": "case", "stage": c.stage, "this": this},
    }


def case_map(
    db: Session,
    principal: Principal,
    case: Case,
    zone: dict[str, Any] | None,
    tiles: TileLayer | None = None,
) -> dict[str, Any] | None:
    """The case's map: its point (with the accuracy circle), its zone's outline, the other
    cases the caller may see within ~1 km, as GeoJSON and in the SVG's units; the tiles
    under them when the site names a tile server. None with neither a point nor an outline."""
    ring = zone["geometry"]["coordinates"][0] if zone else None
    if case.lon is not None and case.lat is not None:
        centre = (case.lon, case.lat)
    elif ring:
        centre = ring_centre(ring)
    else:
        return None
    others = _nearby(db, principal, case, *centre)
    spots = [_ll(c) for c in others] + list(ring or [])
    view = fit(centre, spots, tiles.max_zoom if tiles else MAX_ZOOM)
    features = [_point(case, True)] if case.lon is not None else []
    features += [_point(c, False) for c in others] + ([zone] if zone else [])
    out: dict[str, Any] = {
        "geojson": {"type": "FeatureCollection", "features": features},
        "view": view,
        "point": view.xy(*centre) if case.lon is not None else None,
        "others": [{"id": c.id, "stage": c.stage, "xy": view.xy(*_ll(c))} for c in others],
        "zone": " ".join(f"{x},{y}" for x, y in (view.xy(p[0], p[1]) for p in ring or [])),
        "zone_name": zone["properties"]["name"] if zone else "",
        "scale": view.scale_bar(),
        "tiles": view.tiles(tiles.url) if tiles else [],
        "attribution": tiles.attribution if tiles else "",
    }
    if case.accuracy_m and case.lon is not None:
        out["accuracy_r"] = round(min(max(case.accuracy_m / view.metres_per_unit, 4.0), 110.0), 2)
    return out

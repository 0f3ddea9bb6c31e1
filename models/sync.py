"""Units, cameras and zones follow the site YAML: added, renamed, or marked inactive.

The shell turns the YAML into :class:`SiteSpec` (models/ imports nothing of the config).
Rows are never deleted: cases and detections keep pointing at what they were filed under.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import audit
from models.tables import Camera, Unit, Zone


@dataclass(frozen=True)
class ZoneSpec:
    id: str
    name: str = ""
    unit: str | None = None  # unit path below the district (town/village) or with it
    # the zone on the map: its closed exterior ring as (lon, lat) corners, when known
    outline: tuple[tuple[float, float], ...] | None = None

    def outline_geojson(self) -> dict[str, Any] | None:
        """The outline as a GeoJSON Polygon geometry (what ``zones.outline`` holds)."""
        if self.outline is None:
            return None
        ring = [[float(lon), float(lat)] for lon, lat in self.outline]
        return {"type": "Polygon", "coordinates": [ring]}


@dataclass(frozen=True)
class CameraSpec:
    id: str
    name: str = ""
    zones: tuple[ZoneSpec, ...] = ()


@dataclass(frozen=True)
class SiteSpec:
    district: str
    towns: dict[str, list[str]] = field(default_factory=dict)
    cameras: tuple[CameraSpec, ...] = ()


def _level(name: str) -> str:
    return "community" if name.endswith(("社区", "居委会", "居民委员会")) else "village"


def unit_path(district: str, ref: str | None) -> str:
    """The full path of a zone's unit reference (``南屿镇/旗山村`` → ``闽侯县/南屿镇/旗山村``)."""
    if not ref:
        return district
    return ref if ref == district or ref.startswith(district + "/") else f"{district}/{ref}"


def sync_site(session: Session, spec: SiteSpec, *, now: dt.datetime) -> dict[str, int]:
    """Bring units, cameras and zones in line with ``spec``; return what changed."""
    changes = {"units": 0, "cameras": 0, "zones": 0}
    units = {u.path: u for u in session.scalars(sa.select(Unit))}
    wanted: list[tuple[str, str, str, str | None]] = [
        (spec.district, spec.district, "district", None)
    ]
    for town, villages in spec.towns.items():
        tp = f"{spec.district}/{town}"
        wanted.append((tp, town, "town", spec.district))
        wanted += [(f"{tp}/{v}", v, _level(v), tp) for v in villages]
    seen: set[str] = set()
    for path, name, level, parent in wanted:
        seen.add(path)
        row = units.get(path)
        parent_id = units[parent].id if parent else None
        if row is None:
            row = Unit(
                path=path, name=name, level=level, parent_id=parent_id, active=True, created_at=now
            )
            session.add(row)
            session.flush()
            units[path] = row
            changes["units"] += 1
        elif not row.active or row.parent_id != parent_id or row.level != level:
            row.active, row.parent_id, row.level = True, parent_id, level
            changes["units"] += 1
    for path, row in units.items():
        if path not in seen and row.active:
            row.active = False
            changes["units"] += 1
    changes["cameras"], changes["zones"] = _sync_cameras(session, spec, units)
    if any(changes.values()):
        audit.record(
            session,
            at=now,
            actor="config",
            action="site.sync",
            entity="site",
            entity_id=spec.district,
            after=changes,
        )
    return changes


def _sync_cameras(session: Session, spec: SiteSpec, units: dict[str, Unit]) -> tuple[int, int]:
    n_cam = n_zone = 0
    cams = {c.id: c for c in session.scalars(sa.select(Camera))}
    zones = {(z.camera_id, z.zone_id): z for z in session.scalars(sa.select(Zone))}
    seen_cam: set[str] = set()
    seen_zone: set[tuple[str, str]] = set()
    for cs in spec.cameras:
        seen_cam.add(cs.id)
        zone_units = {unit_path(spec.district, z.unit) for z in cs.zones}
        cam_unit = units.get(zone_units.pop()) if len(zone_units) == 1 else units[spec.district]
        cam = cams.get(cs.id)
        if cam is None:
            cam = Camera(
                id=cs.id,
                name=cs.name,
                unit_id=cam_unit.id if cam_unit else None,
                active=True,
                state="unknown",
                counters={},
            )
            session.add(cam)
            n_cam += 1
        elif (cam.name, cam.active, cam.unit_id) != (cs.name, True, cam_unit and cam_unit.id):
            cam.name, cam.active, cam.unit_id = cs.name, True, cam_unit.id if cam_unit else None
            n_cam += 1
        session.flush()
        for zs in cs.zones:
            seen_zone.add((cs.id, zs.id))
            unit = units.get(unit_path(spec.district, zs.unit))
            z = zones.get((cs.id, zs.id))
            uid = unit.id if unit else None
            outline = zs.outline_geojson()
            if z is None:
                session.add(
                    Zone(camera_id=cs.id, zone_id=zs.id, name=zs.name, unit_id=uid, outline=outline)
                )
                n_zone += 1
            elif (z.name, z.unit_id, z.active, z.outline) != (zs.name, uid, True, outline):
                z.name, z.unit_id, z.active, z.outline = zs.name, uid, True, outline
                n_zone += 1
    for cid, cam in cams.items():
        if cid not in seen_cam and cam.active:
            cam.active = False
            n_cam += 1
    for key, z in zones.items():
        if key not in seen_zone and z.active:
            z.active = False
            n_zone += 1
    session.flush()
    return n_cam, n_zone

"""The case database of a site: upgraded by Alembic, units and cameras synced from its YAML.

The shell's only job here is translation: the site YAML becomes models' plain
:class:`~models.sync.SiteSpec` and :class:`~models.policy.WorkflowPolicy`.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from models.sync import CameraSpec, SiteSpec
    from sitewatch.config.site import CameraConfig, SiteConfig

log = logging.getLogger(__name__)

DEFAULT_DISTRICT = "辖区"  # the one unit of a site that declares no units


def site_spec(site: SiteConfig) -> SiteSpec:
    from models.sync import SiteSpec

    district = site.units.district if site.units else DEFAULT_DISTRICT
    towns = {t: list(dict.fromkeys(v)) for t, v in site.units.towns.items()} if site.units else {}
    cameras = tuple(_camera_spec(c) for c in site.cameras)
    return SiteSpec(district=district, towns=towns, cameras=cameras)


def _camera_spec(cam: CameraConfig) -> CameraSpec:
    from models.sync import CameraSpec, ZoneSpec

    outlines = zone_outlines(cam)
    zones = tuple(
        ZoneSpec(id=z.id, name=z.name or "", unit=z.unit, outline=outlines.get(z.id))
        for z in cam.zones
    )
    return CameraSpec(id=cam.id, name=cam.name or "", zones=zones)


Ring = tuple[tuple[float, float], ...]


def zone_outlines(cam: CameraConfig) -> dict[str, Ring]:
    """Zone id → its exterior ring in (lon, lat), mapped by geofence from the camera's
    ``ground:`` section; {} without one (or without ``resolution``, or a lon/lat reference).
    A zone that reaches above the horizon leaves the whole camera without outlines."""
    if cam.ground is None or cam.resolution is None or not cam.zones:
        return {}
    from geofence.geojson import NotOnGroundError, zones_geojson
    from sitewatch.config.zones import ground_map_for, zoneset_for

    w, h = cam.resolution
    ground = ground_map_for(cam, w, h)
    assert ground is not None
    try:
        doc = zones_geojson(zoneset_for(cam, w, h), ground, camera=cam.id)
    except NotOnGroundError as exc:
        log.warning("camera %r: zone outlines not stored: %s", cam.id, exc)
        return {}
    return {
        str(f["properties"]["id"]): tuple(
            (float(x), float(y)) for x, y in f["geometry"]["coordinates"][0]
        )
        for f in doc["features"]
    }


def open_database(site: SiteConfig, *, now: dt.datetime | None = None) -> Engine:
    """An engine on the site's database, upgraded to the newest schema and synced."""
    from sqlalchemy.orm import Session

    from models.migrate import upgrade
    from models.sync import sync_site
    from sitewatch.db import make_engine

    engine = make_engine(site.database.url)
    upgrade(engine)
    with Session(engine) as session, session.begin():
        sync_site(session, site_spec(site), now=now or dt.datetime.now(dt.UTC))
    return engine

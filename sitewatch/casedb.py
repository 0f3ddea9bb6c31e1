"""The case database of a site: upgraded by Alembic, units and cameras synced from its YAML.

The shell's only job here is translation: the site YAML becomes models' plain
:class:`~models.sync.SiteSpec` and :class:`~models.policy.WorkflowPolicy`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from models.sync import SiteSpec
    from sitewatch.config.site import SiteConfig

DEFAULT_DISTRICT = "辖区"  # the one unit of a site that declares no units


def site_spec(site: SiteConfig) -> SiteSpec:
    from models.sync import CameraSpec, SiteSpec, ZoneSpec

    district = site.units.district if site.units else DEFAULT_DISTRICT
    towns = {t: list(dict.fromkeys(v)) for t, v in site.units.towns.items()} if site.units else {}
    cameras = tuple(
        CameraSpec(
            id=c.id,
            name=c.name or "",
            zones=tuple(ZoneSpec(id=z.id, name=z.name or "", unit=z.unit) for z in c.zones),
        )
        for c in site.cameras
    )
    return SiteSpec(district=district, towns=towns, cameras=cameras)


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

"""The inspectors' phone page (field report and the daily check-in) and the day's check-ins."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import Principal, ServicesDep, SessionDep
from api.pages.core import allowed, guard, render
from api.pages.geo import MAX_ZOOM, ring_centre
from api.pages.views import inspector_villages, village_zones
from api.policy import endpoint
from models import checkins

router = APIRouter(tags=["pages"], include_in_schema=False)


@endpoint(router, "pages.report", response_class=HTMLResponse)
def report_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(guard("pages.report"))],
) -> HTMLResponse:
    villages = inspector_villages(db, principal)
    day = services.policy.calendar.local_day(services.clock())
    today = {r.unit: r for r in checkins.day_table(db, day) if r.unit in villages}
    tiles = services.settings.tiles
    zones = village_zones(db, villages)
    rings = [f["geometry"]["coordinates"][0] for f in zones["features"]]
    pick = {
        "tiles": tiles.url if tiles else None,
        "attribution": tiles.attribution if tiles else "",
        "max_zoom": tiles.max_zoom if tiles else MAX_ZOOM + 2,
        "zones": zones,
        "centre": ring_centre([p for r in rings for p in r]) if rings else None,
    }
    return render(
        request, "report.html", principal, villages=villages, today=today, day=day, pick=pick
    )


@endpoint(router, "pages.checkins", response_class=HTMLResponse)
def checkins_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(guard("pages.checkins"))],
    day: Annotated[dt.date | None, Query()] = None,
) -> HTMLResponse:
    now = services.clock()
    day = day or services.policy.calendar.local_day(now)
    rows = [r for r in checkins.day_table(db, day) if principal.actor.sees(r.unit)]
    counts = {s: sum(1 for r in rows if r.status == s) for s in ("cases", "zero", "missing")}
    cutoff = services.policy.cutoff(day)
    return render(
        request,
        "checkins.html",
        principal,
        rows=rows,
        day=day,
        counts=counts,
        cutoff=cutoff,
        past_cutoff=now >= cutoff,
        can_report=allowed(principal, "pages.report"),
    )

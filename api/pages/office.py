"""The efficiency office's records, the leaders' statistics, and the camera wall."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import Principal, ServicesDep, SessionDep
from api.pages.core import allowed, guard, render
from api.pages.views import latest_snapshots, unit_choices
from api.policy import endpoint
from api.routes.detections import cameras as camera_rows
from api.routes.office import compute_stats, period_params, record_view, stats_scope
from models.tables import Accountability, Unit, Zone

router = APIRouter(tags=["pages"], include_in_schema=False)


@endpoint(router, "pages.accountability", response_class=HTMLResponse)
def accountability_page(
    request: Request,
    db: SessionDep,
    principal: Annotated[Principal, Depends(guard("pages.accountability"))],
    status: Annotated[str | None, Query(pattern="^(open|interviewed|sanctioned|waived)$")] = None,
) -> HTMLResponse:
    q = sa.select(Accountability, Unit.path).join(Unit, Unit.id == Accountability.unit_id)
    if status:
        q = q.where(Accountability.status == status)
    rows = db.execute(q.order_by(Accountability.id.desc()).limit(500)).all()
    records = [record_view(r, path) for r, path in rows if principal.actor.sees(path)]
    return render(
        request,
        "accountability.html",
        principal,
        records=records,
        status=status,
        can_resolve=allowed(principal, "accountability.resolve"),
    )


def _false_alarms(reviews: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-zone review counts summed per camera."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in reviews:
        a = acc[r["camera"]]
        a[0] += r["confirmed"]
        a[1] += r["dismissed"]
        a[2] += r["pending"]
    out = []
    for cam, (c, d, p) in sorted(acc.items()):
        out.append(
            {
                "camera": cam,
                "confirmed": c,
                "dismissed": d,
                "pending": p,
                "rate": d / (c + d) if c + d else None,
            }
        )
    return out


@endpoint(router, "pages.stats", response_class=HTMLResponse)
def stats_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(guard("pages.stats"))],
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    unit: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    try:
        start, end = period_params(services, start, end)
        within = stats_scope(db, principal, unit or None)
    except HTTPException as exc:
        return render(
            request,
            "stats.html",
            principal,
            http_status=exc.status_code,
            error=str(exc.detail),
            data=None,
            units=unit_choices(db, principal),
            unit=unit,
            start=start,
            end=end,
        )
    data = compute_stats(services, db, within, start, end)
    cameras = _false_alarms(data["reviews"])
    chart = {
        "towns": data["cases_by_town"],
        "stages": data["stages"],
        "demolished": data["demolished_m2_by_town"],
        "cameras": cameras,
    }
    query = f"from={start.isoformat()}&to={end.isoformat()}&unit={within}"
    return render(
        request,
        "stats.html",
        principal,
        data=data,
        cameras=cameras,
        error=None,
        chart_json=json.dumps(chart, ensure_ascii=False, default=str),
        units=unit_choices(db, principal),
        unit=within,
        start=start,
        end=end,
        query=query,
    )


@endpoint(router, "pages.cameras", response_class=HTMLResponse)
def cameras_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(guard("pages.cameras"))],
) -> HTMLResponse:
    rows = camera_rows(services, db, principal)
    zones: dict[str, list[str]] = defaultdict(list)
    for cam, name in db.execute(
        sa.select(Zone.camera_id, Zone.name).where(Zone.active.is_(True)).order_by(Zone.zone_id)
    ).all():
        zones[cam].append(name)
    return render(
        request,
        "cameras.html",
        principal,
        cameras=rows,
        zones=zones,
        snapshots=latest_snapshots(db, principal),
    )

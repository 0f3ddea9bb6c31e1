"""The case board (a column per stage), the sortable list, one case with its actions, and
the operators' review queue."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from api.deps import Principal, ServicesDep, SessionDep
from api.pages.core import allowed, guard, render
from api.pages.views import (
    camera_choices,
    case_map,
    detection_frame,
    review_items,
    unit_choices,
    zone_name,
)
from api.policy import endpoint
from api.queries import STAGES, CaseFilter, case_query
from api.views import case_detail, case_summary, visible_case
from models.tables import Case

router = APIRouter(tags=["pages"], include_in_schema=False)
PAGE_SIZE = 25
BOARD_LIMIT = 30
SORTS = {"opened": Case.opened_at, "deadline": Case.deadline_at, "id": Case.id, "stage": Case.stage}


def _filter(unit: str | None, camera: str | None, source: str | None) -> CaseFilter:
    return CaseFilter(
        unit=unit or None,
        camera=camera or None,
        source=source if source in ("camera", "manual") else None,
    )


@endpoint(router, "pages.cases", response_class=HTMLResponse)
def cases_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(guard("pages.cases"))],
    view: Annotated[str, Query(pattern="^(board|list)$")] = "board",
    unit: Annotated[str | None, Query(max_length=200)] = None,
    camera: Annotated[str | None, Query(max_length=64)] = None,
    source: Annotated[str | None, Query(max_length=16)] = None,
    sort: Annotated[str, Query(pattern="^(opened|deadline|id|stage)$")] = "opened",
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = "desc",
    page: Annotated[int, Query(ge=1, le=100000)] = 1,
) -> HTMLResponse:
    now = services.clock()
    f = _filter(unit, camera, source)
    ctx: dict[str, Any] = {
        "view": view,
        "f": f,
        "units": unit_choices(db, principal),
        "cameras": camera_choices(db, principal),
        "sort": sort,
        "order": order,
    }
    if view == "board":
        columns = []
        for stage in STAGES:
            q = case_query(db, principal, CaseFilter(**{**vars(f), "stage": stage}), now)
            if stage != "closed":
                q = q.order_by(None).order_by(Case.deadline_at.asc(), Case.id.asc())
            rows = db.execute(q.limit(BOARD_LIMIT)).all()
            total = db.scalar(sa.select(sa.func.count()).select_from(q.order_by(None).subquery()))
            columns.append((stage, [case_summary(c, p, now) for c, p in rows], total or 0))
        ctx["columns"] = columns
    else:
        q = case_query(db, principal, f, now)
        total = db.scalar(sa.select(sa.func.count()).select_from(q.order_by(None).subquery())) or 0
        col = SORTS[sort]
        q = q.order_by(None).order_by(col.asc() if order == "asc" else col.desc(), Case.id.desc())
        rows = db.execute(q.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        ctx.update(
            items=[case_summary(c, p, now) for c, p in rows],
            total=total,
            page=page,
            pages=max(1, -(-total // PAGE_SIZE)),
        )
    return render(request, "cases.html", principal, **ctx)


@endpoint(router, "pages.case", response_class=HTMLResponse)
def case_page(
    case_id: int,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(guard("pages.case"))],
) -> HTMLResponse:
    case, unit = visible_case(db, principal, case_id)
    detail = case_detail(db, principal, case, unit, services.clock())
    return render(
        request,
        "case.html",
        principal,
        case=detail,
        zone=zone_name(db, case),
        frame=detection_frame(db, case.id),
        geo=case_map(db, principal, case, detail["zone_outline"], services.settings.tiles),
        dossier=allowed(principal, "cases.dossier"),
    )


@endpoint(router, "pages.review", response_class=HTMLResponse)
def review_page(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(guard("pages.review"))],
    case: Annotated[int | None, Query(alias="case")] = None,
) -> HTMLResponse:
    ids = review_items(db, principal)
    current = case if case in ids else (ids[0] if ids else None)
    ctx: dict[str, Any] = {"count": len(ids), "item": None}
    if current is not None:
        row, unit = visible_case(db, principal, current)
        i = ids.index(current)
        ctx.update(
            item=case_detail(db, principal, row, unit, services.clock()),
            position=i + 1,
            prev_id=ids[i - 1] if i > 0 else None,
            next_id=ids[i + 1] if i + 1 < len(ids) else None,
            zone=zone_name(db, row),
            frame=detection_frame(db, row.id),
        )
    return render(request, "review.html", principal, **ctx)

"""Evidence downloads (Range, ETag: clips play and seek in a browser) and the case dossier."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import FileResponse, Response

from api.deps import Principal, ServicesDep, SessionDep, require
from api.dossier import build_dossier
from api.exports import dossier_pdf
from api.policy import endpoint
from api.views import visible_case
from models.tables import Evidence

router = APIRouter(tags=["evidence"])
EXT = {"image/jpeg": ".jpg", "image/png": ".png", "video/mp4": ".mp4", "application/pdf": ".pdf"}


@endpoint(router, "evidence.get", response_class=FileResponse)
def download(
    evidence_id: int,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("evidence.get"))],
) -> FileResponse:
    ev = db.get(Evidence, evidence_id)
    if ev is None:
        raise HTTPException(404, f"no evidence {evidence_id}")
    visible_case(db, principal, ev.case_id)
    try:
        path = services.store.path_for(ev.storage_key)
    except ValueError:
        raise HTTPException(404, f"no evidence {evidence_id}") from None
    if not path.is_file():
        raise HTTPException(410, f"evidence {evidence_id} is no longer stored")
    name = f"case{ev.case_id}-{ev.kind}-{ev.id}{EXT.get(ev.media_type, '')}"
    return FileResponse(
        path,
        media_type=ev.media_type,
        filename=name,
        headers={"Cache-Control": "private, max-age=3600"},
        content_disposition_type="inline",
    )


@endpoint(router, "cases.dossier", response_class=Response)
def dossier(
    case_id: int,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("cases.dossier"))],
) -> Response:
    case, unit = visible_case(db, principal, case_id)
    files = db.scalars(
        sa.select(Evidence).where(Evidence.case_id == case.id).order_by(Evidence.id)
    ).all()
    pdf = dossier_pdf(build_dossier(case, unit, files, services))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="case-{case.id}.pdf"'},
    )

"""What inspectors send from the field: manual reports and the daily check-in."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from api.deps import Principal, ServicesDep, SessionDep, http_error, require
from api.evidence_store import JPEG, PNG, UploadRejected, check_upload_name
from api.policy import endpoint
from models import cases as case_service
from models import checkins
from models.access import unit_by_ref
from models.enums import Role
from models.tables import Unit
from models.workflow import FileRef, Refusal

router = APIRouter(tags=["field"])
MAX_PHOTOS = 10


def _float(form: Any, key: str, required: bool = True) -> float | None:
    raw = form.get(key)
    if raw in (None, ""):
        if required:
            raise HTTPException(422, f"{key} is required")
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise HTTPException(422, f"{key} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise HTTPException(422, f"{key} must be a finite number, got {raw!r}")
    return value


@endpoint(router, "reports.create", status_code=201)
async def report(
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("reports.create"))],
) -> dict[str, Any]:
    form = await request.form(max_files=MAX_PHOTOS, max_fields=10)
    photos = [v for k, v in form.multi_items() if k == "photos" and isinstance(v, UploadFile)]
    if not photos:
        raise HTTPException(422, "a report needs at least one photo (parts named 'photos')")
    unit_ref = str(form.get("unit") or "")
    lon, lat = _float(form, "lon"), _float(form, "lat")
    accuracy = _float(form, "accuracy_m", required=False)
    description = str(form.get("description") or "")
    try:
        unit = unit_by_ref(db, unit_ref)
    except Refusal:
        raise HTTPException(422, f"unit: no unit {unit_ref!r}") from None
    unit_id, unit_path = unit.id, unit.path
    db.rollback()
    if not principal.actor.has(Role.INSPECTOR, unit_path):  # before anything is stored
        raise HTTPException(403, f"reporting in {unit_path} needs the inspector role there")
    try:
        refs = []
        for p in photos:
            name = check_upload_name(p.filename)
            s = await services.store.save_upload(p, allowed=(JPEG, PNG))
            refs.append(FileRef(s.sha256, s.media_type, s.size, s.storage_key, "photo", name))
        with db.begin():
            case = case_service.report_case(
                db,
                services.policy,
                actor=principal.actor,
                now=services.clock(),
                unit=db.get_one(Unit, unit_id),
                photos=refs,
                lon=lon or 0.0,
                lat=lat or 0.0,
                accuracy_m=accuracy,
                description=description,
            )
            return {"case_id": case.id, "stage": case.stage}
    except UploadRejected as exc:
        raise HTTPException(exc.status, exc.reason) from None
    except Refusal as exc:
        raise http_error(exc) from None


class CheckinBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit: str = Field(min_length=1, max_length=200)
    case_ids: list[int] = Field(default_factory=list, max_length=500)
    note: str = Field("", max_length=4000)


@endpoint(router, "checkins.create", status_code=201)
def check_in(
    body: CheckinBody,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("checkins.create"))],
) -> dict[str, Any]:
    try:
        with db.begin():
            unit = unit_by_ref(db, body.unit)
            row = checkins.check_in(
                db,
                services.policy,
                actor=principal.actor,
                unit=unit,
                now=services.clock(),
                case_ids=body.case_ids,
                note=body.note,
            )
            return {
                "unit": unit.path,
                "day": row.day.isoformat(),
                "kind": row.kind,
                "case_ids": row.case_ids,
            }
    except Refusal as exc:
        raise http_error(exc) from None


@endpoint(router, "checkins.list")
def day_table(
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("checkins.list"))],
    day: Annotated[dt.date | None, Query()] = None,
    unit: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    day = day or services.policy.calendar.local_day(services.clock())
    within = None
    if unit:
        try:
            within = unit_by_ref(db, unit).path
        except Refusal as exc:
            raise http_error(exc) from None
    rows = [r for r in checkins.day_table(db, day, within) if principal.actor.sees(r.unit)]
    cutoff = services.policy.cutoff(day)
    return {
        "day": day.isoformat(),
        "cutoff": cutoff,
        "past_cutoff": services.clock() >= cutoff,
        "units": [
            {"unit": r.unit, "status": r.status, "case_ids": list(r.case_ids), "at": r.at}
            for r in rows
        ],
    }

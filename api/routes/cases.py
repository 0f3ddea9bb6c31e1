"""Cases: the filtered list, one case with its timeline, its transitions, taking one."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from api.deps import Principal, ServicesDep, SessionDep, http_error, require
from api.evidence_store import JPEG, PDF, PNG, UploadRejected, check_upload_name
from api.policy import endpoint
from api.queries import CaseFilter, case_query, encode_cursor, page
from api.views import case_detail, case_summary, event_view, transitions, visible_case
from models import cases as case_service
from models.workflow import FileRef, Refusal, TransitionInput

router = APIRouter(tags=["cases"])
MAX_FILES = 20


def filters(
    stage: str | None = None,
    unit: str | None = None,
    camera: str | None = None,
    source: str | None = None,
    overdue: bool | None = None,
    opened_from: Annotated[dt.datetime | None, Query(alias="from")] = None,
    opened_to: Annotated[dt.datetime | None, Query(alias="to")] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
) -> CaseFilter:
    for name, when in (("from", opened_from), ("to", opened_to)):
        if when is not None and when.tzinfo is None:
            raise HTTPException(422, f"{name} needs a time zone, e.g. 2026-12-01T00:00:00+08:00")
    return CaseFilter(stage, unit, camera, source, overdue, opened_from, opened_to, q)


FilterDep = Annotated[CaseFilter, Depends(filters)]


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot encode a {type(value).__name__}")


class PlainJSON(JSONResponse):
    """JSON of plain values and datetimes (ISO 8601, as FastAPI writes them), without
    FastAPI's generic encoder walking every field first: a 50-case page costs a third."""

    def render(self, content: Any) -> bytes:
        text = json.dumps(
            content, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_iso
        )
        return text.encode("utf-8")


@endpoint(router, "cases.list")
def list_cases(
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("cases.list"))],
    f: FilterDep,
    after: Annotated[str | None, Query(alias="next", max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PlainJSON:
    now = services.clock()
    rows = db.execute(page(case_query(db, principal, f, now), after, limit)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return PlainJSON(
        {
            "items": [case_summary(c, path, now) for c, path in rows],
            "next": encode_cursor(rows[-1][0]) if more and rows else None,
        }
    )


@endpoint(router, "cases.get")
def get_case(
    case_id: int,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("cases.get"))],
) -> dict[str, Any]:
    case, unit = visible_case(db, principal, case_id)
    return case_detail(db, principal, case, unit, services.clock())


@endpoint(router, "cases.transitions")
def list_transitions(
    case_id: int,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("cases.transitions"))],
) -> dict[str, Any]:
    case, _ = visible_case(db, principal, case_id)
    return {
        "case_id": case.id,
        "stage": case.stage,
        "transitions": transitions(db, principal, case),
    }


class TransitionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=32)
    comment: str = Field("", max_length=4000)
    reason: str = Field("", max_length=4000)
    label: str | None = Field(None, max_length=64)
    area_m2: float | None = None


async def _transition_input(
    request: Request, services: Any
) -> tuple[TransitionBody, list[FileRef]]:
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json"):
        try:
            return TransitionBody.model_validate_json(await request.body()), []
        except ValueError as exc:
            raise HTTPException(422, f"invalid transition: {exc}") from None
    if not ctype.startswith("multipart/form-data"):
        raise HTTPException(415, "send JSON, or multipart/form-data when files come with it")
    form = await request.form(max_files=MAX_FILES, max_fields=10)
    fields: dict[str, Any] = {}
    refs: list[FileRef] = []
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key != "files":
                raise HTTPException(422, f"files go in parts named 'files', not {key!r}")
            name = check_upload_name(value.filename)
            stored = await services.store.save_upload(value, allowed=(JPEG, PNG, PDF))
            kind = "document" if stored.media_type == PDF else "photo"
            refs.append(
                FileRef(
                    stored.sha256, stored.media_type, stored.size, stored.storage_key, kind, name
                )
            )
        elif key != "csrf_token":
            fields[key] = value if value != "" else None
    if fields.get("comment") is None:
        fields["comment"] = ""
    if fields.get("reason") is None:
        fields["reason"] = ""
    try:
        return TransitionBody.model_validate(fields), refs
    except ValueError as exc:
        raise HTTPException(422, f"invalid transition: {exc}") from None


@endpoint(router, "cases.transition", status_code=201)
async def take_transition(
    case_id: int,
    request: Request,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("cases.transition"))],
) -> dict[str, Any]:
    visible_case(db, principal, case_id)  # 404 before anything is stored
    db.rollback()
    try:
        body, refs = await _transition_input(request, services)
    except UploadRejected as exc:
        raise HTTPException(exc.status, exc.reason) from None
    data = TransitionInput(
        comment=body.comment,
        reason=body.reason,
        label=body.label,
        area_m2=body.area_m2,
        files=tuple(refs),
    )
    try:
        with db.begin():
            event = case_service.take(
                db,
                services.policy,
                case_id,
                body.name,
                actor=principal.actor,
                data=data,
                now=services.clock(),
                review_sink=services.review_sink,
            )
            view = event_view(event)
    except Refusal as exc:
        raise http_error(exc) from None
    case, unit = visible_case(db, principal, case_id)
    return {"event": view, "case": case_detail(db, principal, case, unit, services.clock())}

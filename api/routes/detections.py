"""Worker ingest: one detection with its evidence files, applied once per Idempotency-Key;
and the workers' camera heartbeats, shown on the camera wall."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import functools
import hashlib
import json
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from api.deps import Principal, Services, ServicesDep, SessionDep, http_error, require
from api.evidence_store import JPEG, MP4, PNG, UploadRejected, check_upload_name
from api.ground import locate
from api.policy import endpoint
from models import ingest
from models.tables import Camera, Detection, Unit
from models.workflow import FileRef, Refusal

router = APIRouter(tags=["workers"])
IMAGES = (JPEG, PNG)
PARTS = {
    "before": IMAGES,
    "after": IMAGES,
    "snapshot": IMAGES,
    "frame": IMAGES,
    "reference": IMAGES,
    "clip": (MP4,),
}
MAX_RECORD = 64 * 1024


@functools.cache
def _db_threads() -> concurrent.futures.ThreadPoolExecutor:
    """The ingest's database calls run here: a plain executor costs the event loop less per
    call than Starlette's ``run_in_threadpool`` (anyio's limiter and cancel scope). One per
    process, created on first use (uvicorn's workers are spawned, not forked)."""
    return concurrent.futures.ThreadPoolExecutor(10, thread_name_prefix="ingest-db")


async def _files(request: Request, services: Any) -> tuple[str, list[FileRef]]:
    form = await request.form(max_files=len(PARTS), max_fields=4, max_part_size=MAX_RECORD)
    record_text: str | None = None
    refs: list[FileRef] = []
    for key, value in form.multi_items():
        if key == "detection":
            if isinstance(value, UploadFile):
                raw = await value.read(MAX_RECORD + 1)
                record_text = (
                    raw.decode("utf-8", errors="strict") if len(raw) <= MAX_RECORD else None
                )
            else:
                record_text = value
            continue
        if key not in PARTS or not isinstance(value, UploadFile):
            raise HTTPException(
                422, f"unexpected part {key!r}; parts: detection, {', '.join(PARTS)}"
            )
        check_upload_name(value.filename or f"{key}.bin")
        stored = await services.store.save_upload(value, allowed=PARTS[key])
        refs.append(
            FileRef(
                stored.sha256, stored.media_type, stored.size, stored.storage_key, key, f"{key}"
            )
        )
    if record_text is None:
        raise HTTPException(422, "the detection part (detection.json, at most 64 KiB) is missing")
    return record_text, refs


def _body_hash(record: Any, refs: list[FileRef]) -> str:
    canon = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    parts = "|".join(f"{r.kind}:{r.sha256}" for r in sorted(refs, key=lambda r: r.kind))
    return hashlib.sha256(f"{canon}#{parts}".encode()).hexdigest()


@endpoint(router, "detections.ingest", status_code=201)
async def ingest_detection(
    request: Request,
    principal: Annotated[Principal, Depends(require("detections.ingest"))],
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=1, max_length=200)],
) -> JSONResponse:
    services: Services = request.app.state.services  # (not a dependency: one less to solve)
    try:
        text, refs = await _files(request, services)
        record = json.loads(text)
    except UploadRejected as exc:
        services.metrics.count_ingest("rejected")
        raise HTTPException(exc.status, exc.reason) from None
    except (ValueError, UnicodeDecodeError) as exc:
        services.metrics.count_ingest("rejected")
        raise HTTPException(422, f"the detection part is not valid JSON: {exc}") from None
    body = _body_hash(record, refs)
    if isinstance(record, dict):  # the camera's ground mapping adds area and position
        record = {**record, **locate(services.settings.ground, record)}

    def apply() -> ingest.IngestResult:  # a Core connection (no ORM session), one thread hop
        for attempt in (1, 2):
            try:
                with services.engine.begin() as conn:
                    return ingest.ingest(
                        conn,
                        services.policy,
                        key=idempotency_key,
                        body_sha256=body,
                        record=record,
                        files=refs,
                        actor=principal.actor,
                        now=services.clock(),
                    )
            except sa.exc.DBAPIError as exc:  # the connection died (a database restart):
                if not exc.connection_invalidated or attempt == 2:  # once more, on a new one;
                    raise  # a commit that did land makes the second try a repeat (200)
        raise AssertionError("unreachable")

    try:  # in a worker thread: the event loop keeps parsing other uploads meanwhile
        result = await asyncio.get_running_loop().run_in_executor(_db_threads(), apply)
    except Refusal as exc:  # foreign_unit: the worker's key does not cover this camera (403)
        services.metrics.count_ingest("rejected")
        raise http_error(exc, conflict_status=422) from None
    outcome = "duplicate" if result.repeat else ("created" if result.opened else "attached")
    services.metrics.count_ingest(outcome)
    return JSONResponse(result.body(), status_code=200 if result.repeat else 201)


class Heartbeat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: str = Field(pattern=r"^(starting|online|reconnecting|offline|away|stopped)$")
    last_frame_at: dt.datetime | None = None
    counters: dict[str, int | float] = Field(default_factory=dict, max_length=64)


@endpoint(router, "cameras.heartbeat", status_code=204)
def heartbeat(
    camera_id: str,
    beat: Heartbeat,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("cameras.heartbeat"))],
) -> None:
    with db.begin():
        cam = db.get(Camera, camera_id)
        if cam is None:
            raise HTTPException(404, f"no camera {camera_id!r}")
        unit = db.get(Unit, cam.unit_id) if cam.unit_id else None
        if unit is not None and not principal.actor.reaches(unit.path):
            raise HTTPException(403, f"this worker key holds no grant for camera {camera_id!r}")
        cam.state = beat.state
        if beat.last_frame_at is not None:
            cam.last_frame_at = (
                beat.last_frame_at.astimezone(dt.UTC)
                if beat.last_frame_at.tzinfo
                else beat.last_frame_at.replace(tzinfo=dt.UTC)
            )
        cam.last_heartbeat_at = services.clock()
        cam.counters = dict(beat.counters)


STALE_AFTER = dt.timedelta(seconds=120)  # four missed heartbeats: the worker itself is gone


@endpoint(router, "cameras.list")
def cameras(
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("cameras.list"))],
) -> list[dict[str, Any]]:
    now = services.clock()
    week = now - dt.timedelta(days=7)
    counts = dict(
        db.execute(
            sa.select(Detection.camera_id, sa.func.count())
            .where(Detection.detected_at >= week)
            .group_by(Detection.camera_id)
        ).all()
    )
    out = []
    for cam in db.scalars(sa.select(Camera).where(Camera.active.is_(True)).order_by(Camera.id)):
        unit = db.get(Unit, cam.unit_id) if cam.unit_id else None
        path = unit.path if unit else ""
        if path and not principal.actor.reaches(path):
            continue
        state = cam.state
        if cam.last_heartbeat_at is None or now - cam.last_heartbeat_at > STALE_AFTER:
            state = "offline" if cam.last_heartbeat_at is not None else "unknown"
        out.append(
            {
                "id": cam.id,
                "name": cam.name,
                "unit": path,
                "state": state,
                "reported_state": cam.state,
                "last_frame_at": cam.last_frame_at,
                "last_heartbeat_at": cam.last_heartbeat_at,
                "counters": cam.counters,
                "detections_week": int(counts.get(cam.id, 0)),
            }
        )
    return out

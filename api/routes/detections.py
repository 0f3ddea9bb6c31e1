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
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import Principal, Services, ServicesDep, SessionDep, http_error, require
from api.evidence_store import JPEG, MP4, PNG, UploadRejected, check_upload_name
from api.ground import locate
from api.policy import ROUTES, endpoint
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
DB_THREADS = 2  # the ingest's database calls at once, per process (see _db_threads)


@functools.cache
def _db_threads() -> concurrent.futures.ThreadPoolExecutor:
    """The ingest's database calls run here: a plain executor costs the event loop less per
    call than Starlette's ``run_in_threadpool`` (anyio's limiter and cancel scope). One per
    process, created on first use (uvicorn's workers are spawned, not forked).

    Two threads, not ten: the calls are short (a few round trips), and with ten, 16
    concurrent uploads on 2 processes cost 1.9 ms of server CPU per request (GIL handoffs
    between the loop and the threads) and 1.5 ms of PostgreSQL's (more transactions
    queueing on the camera and audit-chain locks), against 1.7 and 1.0 ms with two
    (bench/bench_api.py, docs/api.md). The loop itself stays free for other requests."""
    return concurrent.futures.ThreadPoolExecutor(DB_THREADS, thread_name_prefix="ingest-db")


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
    return await ingest_request(request, principal, idempotency_key)


async def ingest_request(request: Request, principal: Principal, key: str) -> JSONResponse:
    """The route's work, once the caller and the ``Idempotency-Key`` are known (the route
    and :class:`FastIngest` both call it)."""
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
                        key=key,
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


def ingest_route() -> BaseRoute:
    """The ingest's route (its path is the metrics' template for :class:`FastIngest`)."""
    return next(r for r in router.routes if getattr(r, "name", "") == "detections.ingest")


class FastIngest:
    """ASGI middleware (inside the body limit and the metrics): ``POST /api/v1/detections``
    with a bearer credential and a well-formed ``Idempotency-Key`` goes straight to
    :func:`ingest_request`, skipping the router's scan and FastAPI's dependency solving:
    about a quarter of the request's CPU outside the database call and uvicorn. It runs the
    same checks (``require``'s, then the route's) and answers an ``HTTPException`` as
    FastAPI's default handler does. Any other request, a malformed or missing key
    included, goes to the app, whose route answers it (422 with FastAPI's error list)."""

    def __init__(self, app: ASGIApp, route: BaseRoute) -> None:
        self.app, self.route = app, route
        self.path = ROUTES["detections.ingest"].path
        self.guard = require("detections.ingest")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        key = request.headers.get("idempotency-key")
        if key is None or not 1 <= len(key) <= 200 or "authorization" not in request.headers:
            await self.app(scope, receive, send)  # FastAPI's own answer (422, 401 …)
            return
        scope["route"] = self.route  # the metrics' route template
        try:
            principal = await self.guard(request)
            response: Response = await ingest_request(request, principal, key)
        except StarletteHTTPException as exc:
            response = await http_exception_handler(request, exc)
        finally:
            await request.close()  # the form's spooled files
        await response(scope, receive, send)


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

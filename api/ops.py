"""Operations routes: ``/healthz`` (process up), ``/readyz`` (database reachable), ``/metrics``."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.metrics import ApiMetrics

log = logging.getLogger(__name__)

ReadyCheck = Callable[[], object]
"""Raises (any exception) when the service cannot serve, e.g. the database is unreachable."""


def engine_check(engine: object) -> ReadyCheck:
    """A ready check running ``SELECT 1`` on a SQLAlchemy engine."""
    import sqlalchemy as sa

    if not isinstance(engine, sa.engine.Engine):
        raise TypeError(f"engine must be a SQLAlchemy Engine, got {type(engine).__name__}")

    def check() -> None:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))

    return check


def ops_router(metrics: ApiMetrics, ready: ReadyCheck) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="Process is up", description="Roles: anyone (no sign-in).")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="Ready to serve (database reachable)",
        description="Roles: anyone (no sign-in). 503 while the database cannot be reached.",
        responses={503: {"description": "Not ready"}},
    )
    async def readyz() -> JSONResponse:
        try:
            await run_in_threadpool(ready)
        except Exception as exc:
            log.warning("not ready: %s", exc)
            reason = type(exc).__name__  # details go to the log, not to anonymous callers
            return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
        return JSONResponse({"status": "ready"})

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        description="Roles: anyone who can reach it (no sign-in); keep it off the public "
        "interface with the reverse proxy.",
        response_class=Response,
    )
    def metrics_endpoint() -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    return router

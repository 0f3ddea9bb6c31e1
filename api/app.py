"""``create_app(settings)``: the FastAPI service — no engine or settings at import time.

On start it upgrades the database (Alembic), syncs units and cameras from the site, and
runs the overdue / check-in scheduler in a thread; everything a request needs hangs off
``app.state.services``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from api import pages
from api.deps import Services
from api.evidence_store import EvidenceStore
from api.metrics import ApiMetrics, MetricsMiddleware
from api.ops import engine_check, ops_router
from api.routes import auth, cases, detections, evidence, exports, field, inbox, office
from api.scheduler import Scheduler
from api.security import AccessTokens, ApiKeys, CsrfTokens, Passwords, SignInThrottle, derive_key
from api.settings import ApiSettings
from models.engine import make_engine
from models.migrate import upgrade
from models.review import FolderReviewSink
from models.sync import sync_site

ROUTERS = (auth, detections, cases, evidence, field, office, exports, inbox)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class BodyLimit:
    """Refuse request bodies larger than ``limit`` bytes with a 413, before they are spooled."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0

        async def counted() -> Any:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await _too_large(send, self.limit)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = f'{{"detail":"request body larger than {limit} bytes"}}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def build_services(
    settings: ApiSettings, clock: Callable[[], dt.datetime] | None = None
) -> Services:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    clock = clock or _utcnow
    if settings.site is not None:
        from sqlalchemy.orm import Session

        with Session(engine) as s, s.begin():
            sync_site(s, settings.site, now=clock())
    secret = settings.secret_key
    store = EvidenceStore(settings.evidence_dir, settings.upload_limits)
    return Services(
        settings=settings,
        engine=engine,
        policy=settings.policy,
        store=store,
        passwords=Passwords(),
        tokens=AccessTokens(derive_key(secret, "jwt"), settings.token_ttl_s),
        api_keys=ApiKeys(derive_key(secret, "api-key")),
        csrf=CsrfTokens(derive_key(secret, "csrf")),
        throttle=SignInThrottle(),
        metrics=ApiMetrics(),
        clock=clock,
        review_sink=FolderReviewSink(
            settings.evidence_dir, settings.policy.calendar.tz, blob_path=store.path_for
        ),
    )


def create_app(
    settings: ApiSettings,
    *,
    clock: Callable[[], dt.datetime] | None = None,
    run_scheduler: bool = True,
) -> FastAPI:
    services = build_services(settings, clock)
    scheduler = Scheduler(services, settings.scheduler_interval_s)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_scheduler:
            scheduler.start()
        try:
            yield
        finally:
            scheduler.stop()
            services.engine.dispose()

    app = FastAPI(
        title="sitewatch",
        version="1",
        lifespan=lifespan,
        description="Cases of illegal construction from camera detections and field "
        "reports, through the five-role workflow. Every route says which roles may "
        "call it.",
    )
    app.state.services = services
    app.state.scheduler = scheduler
    for module in ROUTERS:
        app.include_router(module.router)
    pages.install(app)  # the web pages and /static
    app.include_router(ops_router(services.metrics, engine_check(services.engine)))
    app.add_middleware(detections.FastIngest, route=detections.ingest_route())  # in the limit
    limit = max(settings.upload_limits.values(), default=1 << 20) * 2 + (1 << 20)
    app.add_middleware(BodyLimit, limit=limit)
    metrics = services.metrics  # outermost: it times and logs 413s from BodyLimit too
    app.add_middleware(MetricsMiddleware, metrics=metrics, skip=("/metrics",), access_log=True)
    return app

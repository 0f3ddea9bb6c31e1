"""Prometheus metrics of the API: requests by route template and status, ingest, cases.

With ``PROMETHEUS_MULTIPROC_DIR`` set (before the process starts: prometheus-client
picks its value store at import), every process writes its samples to files in that
folder and ``render()`` adds up all processes; otherwise one plain registry is used.
Gauges set from the database (cases by stage, overdue) report the most recent value
written by any process. In multiprocess mode, empty the folder when the service starts
(``clear_multiprocess_dir``) and call ``mark_process_dead(pid)`` from the server's
worker-exit hook (gunicorn's ``child_exit``).
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.logs import access

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED_ROUTE = "<unmatched>"
INGEST_OUTCOMES = ("created", "attached", "duplicate", "rejected")


def multiprocess_dir() -> Path | None:
    value = os.environ.get(MULTIPROC_ENV) or os.environ.get(MULTIPROC_ENV.lower())
    return Path(value) if value else None


def clear_multiprocess_dir() -> None:
    """Remove the sample files of earlier runs (call once, before workers start)."""
    folder = multiprocess_dir()
    if folder is not None and folder.is_dir():
        for f in folder.glob("*.db"):
            f.unlink(missing_ok=True)


def mark_process_dead(pid: int) -> None:
    if multiprocess_dir() is not None:
        multiprocess.mark_process_dead(pid)


class ApiMetrics:
    """The metrics one app instance records; ``render()`` is the ``/metrics`` body."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, namespace: str = "sitewatch") -> None:
        self.multiprocess = multiprocess_dir() is not None
        # in multiprocess mode samples go to files; metrics are not kept in a registry
        self._own = CollectorRegistry(auto_describe=True)
        reg = None if self.multiprocess else self._own
        ns: dict[str, Any] = {"namespace": namespace, "registry": reg}
        self.requests = Counter(
            "http_requests", "HTTP requests by method, route and status.",
            ["method", "route", "status"], **ns,
        )  # fmt: skip
        self.latency = Histogram(
            "http_request_duration_seconds", "HTTP request duration by method and route.",
            ["method", "route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            **ns,
        )  # fmt: skip
        self.ingested = Counter(
            "detections_ingested", "Detections posted by workers, by outcome.", ["outcome"], **ns
        )
        self.evidence_bytes = Counter(
            "evidence_stored_bytes", "Bytes of new evidence files stored.", **ns
        )
        self.cases_by_stage = Gauge(
            "cases", "Open cases by workflow stage.", ["stage"],
            multiprocess_mode="mostrecent", **ns,
        )  # fmt: skip
        self.overdue = Gauge(
            "cases_overdue", "Cases past their stage deadline.",
            multiprocess_mode="mostrecent", **ns,
        )  # fmt: skip

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def count_ingest(self, outcome: str) -> None:
        if outcome not in INGEST_OUTCOMES:
            raise ValueError(f"outcome must be one of {INGEST_OUTCOMES}, got {outcome!r}")
        self.ingested.labels(outcome).inc()

    def set_cases(self, by_stage: dict[str, int], overdue: int) -> None:
        """Set the case gauges from a database count (stages missing from it become 0)."""
        for stage, n in by_stage.items():
            self.cases_by_stage.labels(stage).set(n)
        for sample in self._stage_labels() - set(by_stage):
            self.cases_by_stage.labels(sample).set(0)
        self.overdue.set(overdue)

    def _stage_labels(self) -> set[str]:
        return {m.labels["stage"] for f in self.cases_by_stage.collect() for m in f.samples}

    def registry(self) -> CollectorRegistry:
        if not self.multiprocess:
            return self._own
        reg = CollectorRegistry()
        multiprocess.MultiProcessCollector(reg)
        return reg

    def render(self) -> bytes:
        return generate_latest(self.registry())


class MetricsMiddleware:
    """Pure ASGI middleware timing every HTTP request under its route template
    (``/cases/{id}``) and, with ``access_log``, writing its access line (method, route,
    status, ms) to ``sitewatch.access``: one wrapper of ``send`` for both."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: ApiMetrics,
        skip: tuple[str, ...] = (),
        access_log: bool = False,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.skip = skip
        self.access = access if access_log else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            seconds = time.perf_counter() - start
            route = getattr(scope.get("route"), "path", None)
            template = route or UNMATCHED_ROUTE
            if template not in self.skip:
                self.metrics.observe_request(scope["method"], template, status, seconds)
            if self.access is not None and self.access.isEnabledFor(logging.INFO):
                extra = {"method": scope["method"], "route": route or scope.get("path")}
                extra |= {"status": status, "ms": round(seconds * 1000, 1)}
                self.access.info("request", extra=extra)

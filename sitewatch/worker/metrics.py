"""The worker's Prometheus metrics (one registry per worker, served on ``metrics_port``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from sitewatch.worker.outbox import Outbox

STATES = ("starting", "online", "reconnecting", "offline", "away", "stopped")


class OutboxCollector(Collector):
    """Outbox depth, oldest pending age and dead letters per channel, read at scrape time."""

    def __init__(self, outbox: Outbox, clock: Callable[[], float] = time.time) -> None:
        self.outbox = outbox
        self.clock = clock

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "sitewatch_outbox_depth", "Events waiting for delivery", labels=["channel"]
        )
        age = GaugeMetricFamily(
            "sitewatch_outbox_oldest_age_seconds",
            "Age of the oldest event waiting for delivery",
            labels=["channel"],
        )
        failed = GaugeMetricFamily(
            "sitewatch_outbox_failed",
            "Events refused for good (dead letters kept in the outbox)",
            labels=["channel"],
        )
        for channel, (pending, oldest, dead) in sorted(self.outbox.stats(self.clock()).items()):
            depth.add_metric([channel], pending)
            age.add_metric([channel], oldest)
            failed.add_metric([channel], dead)
        yield depth
        yield age
        yield failed


class WorkerMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        cam = ["camera"]
        self.state = Gauge(
            "sitewatch_camera_state",
            "1 for the camera's current state",
            [*cam, "state"],
            registry=r,
        )
        self.samples = Counter("sitewatch_camera_samples", "Frames sampled", cam, registry=r)
        self.analysed = Counter("sitewatch_camera_analysed", "Frames analysed", cam, registry=r)
        self.warmup = Counter(
            "sitewatch_camera_warmup_samples",
            "Frames that went into learning a reference (a new camera or light mode)",
            cam,
            registry=r,
        )
        self.decode = Counter(
            "sitewatch_camera_decode_seconds",
            "CPU seconds spent reading and decoding the stream",
            cam,
            registry=r,
        )
        self.analysis = Histogram(
            "sitewatch_camera_analysis_seconds",
            "Seconds to analyse one sampled frame",
            cam,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )
        self.lag = Gauge(
            "sitewatch_camera_lag_seconds",
            "Seconds from reading a frame to the end of its analysis",
            cam,
            registry=r,
        )
        self.reconnects = Gauge(
            "sitewatch_camera_reconnects", "Reconnections since start", cam, registry=r
        )
        self.candidates = Gauge(
            "sitewatch_camera_candidates",
            "Changes being watched, not yet confirmed",
            cam,
            registry=r,
        )
        self.detections = Counter(
            "sitewatch_camera_detections", "Events (confirmed, gone)", [*cam, "event"], registry=r
        )
        self.dropped = Counter(
            "sitewatch_camera_dropped",
            "Sampled frames dropped because the analysis queue was full",
            cam,
            registry=r,
        )
        self.queue = Gauge("sitewatch_analysis_queue", "Frames waiting for analysis", registry=r)

    def set_state(self, camera: str, state: str) -> None:
        for name in STATES:
            self.state.labels(camera, name).set(1.0 if name == state else 0.0)

    def watch_outbox(self, outbox: Outbox) -> None:
        self.registry.register(OutboxCollector(outbox))

    def serve(self, port: int, host: str = "127.0.0.1") -> Any:
        """Serve ``/metrics`` in a thread; returns the server (``shutdown()`` it)."""
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        return server

"""The worker: every configured camera in one process, events into the outbox and out.

    worker = build_worker(load_site("site.yaml"), events_out=Path("events.jsonl"))
    worker.run(stop_event)          # or: worker.start(); …; worker.stop()

An event is first written to the outbox (one row per channel: the API when
``worker.api_url`` is set, each webhook), then to ``--events-out``, MQTT and the
metrics; delivery loops send the outbox rows. ``stop()`` ends the readers, lets the
running analyses finish, saves every camera's references and exports pending clips.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from zoneinfo import ZoneInfo

import httpx

from sitewatch.config import SiteConfig
from sitewatch.worker.camera import CameraRunner, evidence_folder
from sitewatch.worker.delivery import TIMEOUT, ApiSender, DeliveryLoop, HeartbeatLoop, Sender
from sitewatch.worker.executor import InferenceExecutor
from sitewatch.worker.memory import tune_malloc
from sitewatch.worker.metrics import WorkerMetrics
from sitewatch.worker.outbox import Outbox
from sitewatch.worker.webhooks import WebhookSender, read_secret

log = logging.getLogger(__name__)

ENV_API_KEY = "SITEWATCH_API_KEY"
KEEP_SENT = 7 * 86400.0  # delivered rows are forgotten after a week


def api_key(site: SiteConfig, environ: Mapping[str, str] | None = None) -> str | None:
    """The worker's API key: ``SITEWATCH_API_KEY``, else ``worker.api_key_file``."""
    env = os.environ if environ is None else environ
    key = env.get(ENV_API_KEY, "").strip()
    if key:
        return key
    path = site.worker.api_key_file
    if path is not None:
        key = Path(path).read_text(encoding="utf-8").strip()
        if not key:
            raise ValueError(f"{path}: the API key file is empty")
        return key
    return None


def build_worker(
    site: SiteConfig,
    *,
    cameras: Sequence[str] | None = None,
    events_out: Path | None = None,
    speed: float = 1.0,
    environ: Mapping[str, str] | None = None,
    api_url: str | None = None,
    key: str | None = None,
) -> Worker:
    """The worker for ``site`` (all cameras, or those in ``cameras``): the seam for tests
    and for ``sitewatch run``, which passes the API it serves as ``api_url`` and the
    worker key it made as ``key`` (else ``worker.api_url`` and :func:`api_key`).
    Raises KeyError for an unknown camera id, ValueError or OSError for a missing API
    key or secret."""
    chosen = [site.camera(c) for c in cameras] if cameras else list(site.cameras)
    if api_url is not None:
        worker = site.worker.model_copy(update={"api_url": api_url})
        site = site.model_copy(update={"worker": worker})
    key = key or api_key(site, environ)
    if site.worker.api_url is not None and key is None:
        raise ValueError(
            f"worker.api_url is {site.worker.api_url} but there is no API key: set "
            f"{ENV_API_KEY} or worker.api_key_file"
        )
    return Worker(site, [c.id for c in chosen], api_key=key, events_out=events_out, speed=speed)


class Worker:
    def __init__(
        self,
        site: SiteConfig,
        camera_ids: Sequence[str],
        *,
        api_key: str | None = None,
        events_out: Path | None = None,
        speed: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        tune_malloc()  # before any camera or analysis thread makes an arena of its own
        self.site = site
        self.config = site.worker
        self.clock = clock
        self.stop_event = threading.Event()
        self._clients: list[httpx.Client] = []
        senders = self._senders(api_key)  # reads the webhook secrets: fails before any thread
        self.metrics = WorkerMetrics()
        self.outbox = Outbox(self.config.outbox_file)
        self.metrics.watch_outbox(self.outbox)
        self.executor = InferenceExecutor(
            self.config.queue_size, self.config.analysis_threads, on_drop=self._dropped
        )
        self.cameras = {
            cid: CameraRunner(
                site,
                site.camera(cid),
                executor=self.executor,
                metrics=self.metrics,
                on_event=self._on_event,
                stop=self.stop_event,
                speed=speed,
            )
            for cid in camera_ids
        }
        self.loops = [self._loop(sender) for sender in senders]
        self.heartbeats = None
        if self.config.api_url is not None and api_key is not None:
            self.heartbeats = HeartbeatLoop(
                self._client(),
                self.config.api_url,
                api_key,
                self.heartbeat_bodies,
                self.config.heartbeat,
                self.stop_event,
            )
        self.mqtt: Any = None
        self._events_path = events_out
        self._events: IO[str] | None = None
        self._events_lock = threading.Lock()
        self._tz = ZoneInfo(site.workflow.timezone)
        self._threads: list[threading.Thread] = []
        self._server: Any = None
        self.started = False
        self._stopped = False

    # ------------------------------------------------------------- set-up
    def _client(self) -> httpx.Client:
        client = httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self._clients.append(client)
        return client

    def _senders(self, key: str | None) -> list[Sender]:
        senders: list[Sender] = []
        if self.config.api_url is not None and key is not None:
            root = self.site.storage.evidence_dir
            senders.append(ApiSender(self._client(), self.config.api_url, key, root))
        for i, hook in enumerate(self.config.webhooks):
            senders.append(
                WebhookSender(self._client(), i, hook.url, read_secret(hook.secret_file))
            )
        return senders

    def _loop(self, sender: Sender) -> DeliveryLoop:
        return DeliveryLoop(
            self.outbox,
            sender,
            self.stop_event,
            retry_max=self.config.retry_max,
            clock=self.clock,
        )

    @property
    def channels(self) -> list[str]:
        return [loop.sender.channel for loop in self.loops]

    def start(self) -> None:
        """Build every pipeline (models load here), then start cameras and delivery."""
        for runner in self.cameras.values():
            runner.build()
        self.outbox.prune(self.clock() - KEEP_SENT)
        if self._events_path is not None:
            self._events = self._events_path.open("a", encoding="utf-8")
        if self.config.mqtt is not None:
            from sitewatch.worker.mqtt import MqttPublisher

            self.mqtt = MqttPublisher(self.config.mqtt)
            for cid in self.cameras:
                self.mqtt.state(cid, "starting")
            self.mqtt.start()
        if self.config.metrics_port:
            self._server = self.metrics.serve(self.config.metrics_port, self.config.metrics_host)
        for loop in self.loops:
            self._spawn(loop.run, f"delivery-{loop.sender.channel}")
        if self.heartbeats is not None:
            self._spawn(self.heartbeats.run, "heartbeats")
        self._spawn(self._monitor, "monitor")
        for runner in self.cameras.values():
            runner.start()
        self.started = True
        log.info("worker started: cameras %s, delivery %s", list(self.cameras), self.channels)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # ------------------------------------------------------------- running
    def run(self, stop: threading.Event | None = None) -> None:
        """Start, run until ``stop`` is set (or every camera has ended), then stop."""
        try:
            self.start()
            while not (stop is not None and stop.is_set()) and not self.cameras_done():
                if stop is not None:
                    stop.wait(0.2)
                else:
                    self.stop_event.wait(0.2)
        finally:
            self.stop()

    def cameras_done(self) -> bool:
        """Every camera's source has ended (video files played to their end)."""
        return all(r.finished for r in self.cameras.values()) and self.executor.idle()

    def _on_event(self, camera: str, record: dict[str, Any], wall: float) -> None:
        folder, rel = evidence_folder(record, self.site.storage.evidence_dir)
        detected_at = datetime.fromtimestamp(wall, self._tz).isoformat(timespec="milliseconds")
        payload = {k: v for k, v in record.items() if k != "evidence"}
        payload.update(folder=rel, detected_at=detected_at)
        now = self.clock()
        if self.channels:
            wait = self.cameras[camera].clip_wait if folder is not None else 0.0
            self.outbox.record(
                self.channels,
                key=str(record["id"]),
                camera=camera,
                payload=payload,
                folder=folder,
                now=now,
                not_before=now + wait,
            )
            for loop in self.loops:
                loop.wake.set()
        log.info(
            "camera %s: %s %s in zone %s", camera, record["event"], record["id"], record["zone"]
        )
        if self._events is not None:
            line = json.dumps({**record, "detected_at": detected_at}, ensure_ascii=False)
            with self._events_lock:
                self._events.write(line + "\n")
                self._events.flush()
        if self.mqtt is not None:
            self.mqtt.detection(camera, payload)

    def _dropped(self, camera: str) -> None:
        runner = self.cameras.get(camera)
        if runner is not None:
            runner.count_drop()

    def heartbeat_bodies(self) -> dict[str, dict[str, Any]]:
        """The heartbeat body of every camera (state, last frame time, counters)."""
        out = {}
        for cid, runner in self.cameras.items():
            last = runner.last_frame_at
            state = runner.state()
            out[cid] = {
                "state": "offline" if state == "stopped" else state,
                "last_frame_at": None
                if last is None
                else datetime.fromtimestamp(last, self._tz).isoformat(timespec="seconds"),
                "counters": runner.counters(),
            }
        return out

    def _monitor(self) -> None:
        while not self.stop_event.wait(1.0):
            self.refresh()

    def refresh(self) -> None:
        """Camera states into the metrics and MQTT."""
        self.metrics.queue.set(self.executor.pending())
        for cid, runner in self.cameras.items():
            state = runner.state()
            self.metrics.set_state(cid, state)
            self.metrics.reconnects.labels(cid).set(runner.source.status.reconnects)
            if self.mqtt is not None:
                self.mqtt.state(cid, state)

    # ------------------------------------------------------------- stopping
    def stop(self, timeout: float = 5.0) -> None:
        """Stop reading, finish running analyses, save references, close everything."""
        if self._stopped:
            return
        self._stopped = True
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for runner in self.cameras.values():
            runner.join(max(0.1, deadline - time.monotonic()))
        self.executor.stop(max(0.5, deadline - time.monotonic()))
        for runner in self.cameras.values():
            try:
                runner.close()
            except Exception:
                log.exception("camera %s: saving its state failed", runner.cam.id)
        if self.started:
            self.refresh()
        for thread in self._threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        if self.mqtt is not None:
            self.mqtt.close()
        if self._server is not None:
            self._server.shutdown()
        for client in self._clients:
            client.close()
        if self._events is not None:
            self._events.close()
        if not any(t.is_alive() for t in self._threads):  # else a send is still in flight
            self.outbox.close()
        log.info("worker stopped")

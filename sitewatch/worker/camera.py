"""One camera inside the worker: its source, its reader thread and its pipeline.

The reader thread pulls sampled frames from the source and hands each to the shared
executor; the executor runs :meth:`CameraRunner.analyse`, which feeds the camera's
``CameraPipeline`` (rebuilt when the frame size changes) and passes events on.
Stream time is the source's pts × ``speed`` (1 for a live camera; a simulated camera
serving a scene rendered at N scene seconds per video second runs with ``speed=N``,
exactly like ``sitewatch replay --speed``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sitewatch.config import CameraConfig, SiteConfig
from sitewatch.worker.executor import InferenceExecutor
from sitewatch.worker.metrics import WorkerMetrics

log = logging.getLogger(__name__)

SAVE_EVERY = 60.0  # wall seconds between two saves of a camera's references and tracks

EventHook = Callable[[str, dict[str, Any], float], None]
"""``(camera, event record, wall time of its frame)``."""


class CameraRunner:
    def __init__(
        self,
        site: SiteConfig,
        cam: CameraConfig,
        *,
        executor: InferenceExecutor,
        metrics: WorkerMetrics,
        on_event: EventHook,
        stop: threading.Event,
        speed: float = 1.0,
    ) -> None:
        from streams import StreamSettings, open_source

        self.site = site
        self.cam = cam
        self.executor = executor
        self.metrics = metrics
        self.on_event = on_event
        self.stop = stop
        self.speed = speed
        fields = {k: getattr(cam, k) for k in StreamSettings.model_fields}
        fields["sample_interval"] = max(0.04, cam.sample_interval / speed)
        self.stream = StreamSettings.model_validate(fields)
        live = "://" in cam.url
        self.source = open_source(cam.url, self.stream, realtime=not live)
        self.pipe: Any = None
        self.size: tuple[int, int] | None = None
        self.samples = 0
        self.analysed = 0
        self.detections = 0
        self.dropped = 0
        self.candidates = 0
        self.last_frame_at: float | None = None
        self.finished = False
        self.error: str | None = None
        self._saved_at = time.perf_counter()
        self._thread = threading.Thread(target=self._read, name=f"camera-{cam.id}", daemon=True)
        self._lock = threading.Lock()

    @property
    def clip_wait(self) -> float:
        """Wall seconds after an event by which its clip is exported even when the analysis
        lags (the clip ends 5 s after the event and is cut at the next sample after that)."""
        return min(300.0, 30.0 + 2 * self.stream.sample_interval)

    def build(self) -> None:
        """Build the pipeline (loads the models; raises ModelLoadError)."""
        from sitewatch.wiring import build_pipeline

        storage = self.site.storage
        self.pipe = build_pipeline(
            self.site,
            self.cam,
            evidence_dir=storage.evidence_dir,
            reference_dir=storage.reference_dir,
            ring=self.source.ring,
        )

    def start(self) -> None:
        if self.pipe is None:
            self.build()
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def close(self) -> None:
        """Save references and tracks, export pending clips, close the source."""
        with self._lock:
            if self.pipe is not None:
                self.pipe.close()
        self.source.close()

    def state(self) -> str:
        """``starting``, ``online``, ``reconnecting``, ``offline``, ``away`` or ``stopped``."""
        if self.finished:
            return "stopped" if self.error is None else "offline"
        if self.last_frame_at is None:
            return "starting"
        state = str(self.source.status.state)
        view = getattr(getattr(self.pipe, "view", None), "state", None)
        if state == "online" and view is not None and str(view.value) != "ok":
            return "away"
        return state

    def counters(self) -> dict[str, int]:
        status = self.source.status
        return {
            "samples": self.samples,
            "analysed": self.analysed,
            "reconnects": status.reconnects,
            "disconnects": status.disconnects,
            "corrupt": status.corrupt,
            "candidates": self.candidates,
            "detections": self.detections,
            "dropped": self.dropped,
        }

    def count_drop(self) -> None:
        self.dropped += 1
        self.metrics.dropped.labels(self.cam.id).inc()

    def _read(self) -> None:
        from streams import SourceError

        cpu = time.thread_time()
        try:
            for frame in self.source.frames(self.stop):
                now_cpu = time.thread_time()
                self.metrics.decode.labels(self.cam.id).inc(now_cpu - cpu)
                cpu = now_cpu
                self.samples += 1
                self.last_frame_at = frame.wall
                self.metrics.samples.labels(self.cam.id).inc()
                self.executor.submit(self.cam.id, partial(self.analyse, frame))
        except SourceError as exc:
            self.error = str(exc)
            log.error("camera %s: %s", self.cam.id, exc)
        finally:
            self.finished = True

    def analyse(self, frame: Any) -> None:
        """Run the pipeline on one sampled frame (in the executor's thread)."""
        from detector.reporting import event_json

        if self.stop.is_set():
            return
        with self._lock:
            h, w = frame.image.shape[:2]
            if self.size is not None and self.size != (w, h):
                log.warning(
                    "camera %s: frame size changed from %dx%d to %dx%d: pipeline rebuilt",
                    self.cam.id,
                    *self.size,
                    w,
                    h,
                )
                self.pipe.close()
                self.build()
            self.size = (w, h)
            start = time.perf_counter()
            found = self.pipe.process(
                frame.image, frame.pts * self.speed, wall=frame.wall, pts=frame.pts
            )
            done = time.perf_counter()
            self.analysed += 1
            self.candidates = _candidates(self.pipe)
            records = event_json(found)
            if records or done - self._saved_at > SAVE_EVERY:  # a kill -9 keeps what it knew
                self.pipe.save()
                self._saved_at = time.perf_counter()
        cid = self.cam.id
        self.metrics.analysed.labels(cid).inc()
        self.metrics.analysis.labels(cid).observe(done - start)
        self.metrics.lag.labels(cid).set(max(0.0, time.time() - frame.wall))
        self.metrics.candidates.labels(cid).set(self.candidates)
        for record in records:
            self.detections += 1
            self.metrics.detections.labels(cid, str(record.get("event"))).inc()
            self.on_event(cid, record, frame.wall)


def _candidates(pipe: Any) -> int:
    """Changes the pipeline watches that are not confirmed yet (0 if it does not say)."""
    try:
        return len(pipe.tracker.pending)
    except (AttributeError, TypeError):
        return 0


def evidence_folder(record: dict[str, Any], root: Path) -> tuple[str | None, str | None]:
    """(absolute folder, folder relative to the evidence root with / separators)."""
    folder = record.get("evidence")
    if not folder:
        return None, None
    path = Path(folder).resolve()
    try:
        rel = path.relative_to(Path(root).resolve())
    except ValueError:
        log.error("evidence folder %s is outside the evidence root %s", path, root)
        return None, None
    return str(path), rel.as_posix()

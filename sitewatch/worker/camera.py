"""One camera inside the worker: its source, its reader thread and its pipeline.

The reader thread pulls sampled frames from the source and hands each to the shared
executor; the executor runs :meth:`CameraRunner.analyse`, which feeds the camera's
``CameraPipeline`` (rebuilt when the frame size changes) and passes events on.
Stream time is the source's pts × ``speed`` (1 for a live camera; a simulated camera
serving a scene rendered at N scene seconds per video second runs with ``speed=N``,
exactly like ``sitewatch replay --speed``), continued across restarts from the time the
camera's references and tracks were last saved (``stream.json`` beside them).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from sitewatch.config import CameraConfig, SiteConfig
from sitewatch.worker.executor import InferenceExecutor
from sitewatch.worker.metrics import WorkerMetrics
from streams.paths import inside_root

log = logging.getLogger(__name__)

SAVE_EVERY = 60.0  # wall seconds between two saves of a camera's references and tracks
STREAM_FILE = "stream.json"  # beside the references: the stream time they were saved at

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
        self.warmup = 0
        self.last_frame_at: float | None = None
        self.finished = False
        self.error: str | None = None
        self.t0 = self._resume_time()
        """Stream time of this run's first frame: it continues from the saved state's."""
        self.last_t: float | None = None
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
                self._save_time()
        self.source.close()

    @property
    def _stream_file(self) -> Path:
        return inside_root(self.site.storage.reference_dir, self.cam.id) / STREAM_FILE

    def _resume_time(self) -> float:
        """Where stream time starts: one sample after the time the saved references and
        tracks were written at (0 without them), so that a restored candidate keeps its age
        (the time the worker was down does not count towards ``confirm_after``)."""
        try:
            saved = json.loads(self._stream_file.read_text(encoding="utf-8"))
            return float(saved["t"]) + self.cam.sample_interval
        except FileNotFoundError:
            return 0.0
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "camera %s: %s unreadable (%s): stream time starts at 0",
                self.cam.id,
                self._stream_file,
                exc,
            )
            return 0.0

    def _hold_clip(self, pts: float) -> None:
        """Keep the ring's packets for the clip of an event at ``pts`` (source seconds)
        until it is cut, at the first sample after its end: the ring itself then needs
        to hold only the part of a clip before its event."""
        evidence = getattr(self.pipe, "evidence", None)
        if evidence is None:
            return
        pre = float(getattr(evidence, "clip_pre", 10.0))
        post = float(getattr(evidence, "clip_post", 5.0))
        self.source.ring.hold(pts - pre, pts + post + 2 * self.stream.sample_interval + 30.0)

    def _save(self) -> None:
        self.pipe.save()
        self._save_time()
        self._saved_at = time.perf_counter()

    def _save_time(self) -> None:
        if self.last_t is None:
            return
        path = self._stream_file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps({"t": self.last_t}), encoding="utf-8")
        os.replace(tmp, path)

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
            "warmup": self.warmup,
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
            w, h = frame.picture.size  # no conversion: the pipeline scales from YUV
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
            before = _progress(self.pipe)
            start = time.perf_counter()
            t = self.t0 + frame.pts * self.speed
            found = self.pipe.process(frame.picture, t, wall=frame.wall, pts=frame.pts)
            self.last_t = t
            done = time.perf_counter()
            after = _progress(self.pipe)
            self.analysed += 1
            self.candidates = len(after.pending)
            warming = after.warming(before)
            self.warmup += warming
            records = event_json(found)
            # a kill -9 keeps what it knew: save at once when a warm-up ends, a candidate
            # appears or an event is reported (else every SAVE_EVERY seconds)
            news = after.ready > before.ready or bool(after.pending - before.pending)
            if records:
                self._hold_clip(frame.pts)
            if records or news or done - self._saved_at > SAVE_EVERY:
                self._save()
        cid = self.cam.id
        self.metrics.analysed.labels(cid).inc()
        self.metrics.analysis.labels(cid).observe(done - start)
        self.metrics.lag.labels(cid).set(max(0.0, time.time() - frame.wall))
        self.metrics.candidates.labels(cid).set(self.candidates)
        if warming:
            self.metrics.warmup.labels(cid).inc()
        for record in records:
            self.detections += 1
            self.metrics.detections.labels(cid, str(record.get("event"))).inc()
            self.on_event(cid, record, frame.wall)


@dataclass(frozen=True)
class _Progress:
    """What a pipeline has learnt, read around each sample: its ready references, its
    current light mode's reference and the ids of its candidates (pending tracks)."""

    ready: int = 0
    mode: Any = None
    mode_ready: bool | None = None  # None: no reference for that mode yet
    pending: frozenset[int] = frozenset()

    def warming(self, before: _Progress) -> bool:
        """Did the sample between ``before`` and this go into a reference's warm-up?"""
        if self.mode_ready is None:
            return False
        if not self.mode_ready:
            return True
        # ready now: warming if it became ready at this sample (not restored from disk)
        was = before.mode_ready if before.mode == self.mode else False
        return was is False and before.ready < self.ready and before.mode is not None


def _progress(pipe: Any) -> _Progress:
    """The pipeline's learning state (empty before its first frame or if it does not say)."""
    try:
        refs = pipe.cam.refs.modes
        mode = pipe.mode
        ref = refs.get(mode)
        return _Progress(
            ready=sum(1 for r in refs.values() if r.ready),
            mode=mode,
            mode_ready=None if ref is None else bool(ref.ready),
            pending=frozenset(t.id for t in pipe.tracker.pending),
        )
    except (AttributeError, RuntimeError, TypeError):
        return _Progress()


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

"""CPU cost per camera of the stream layer: keyframe sampling vs decoding every frame.

Serves K simulated 1080p25 H.264 cameras (the GStreamer simulator, a separate process whose
CPU is not counted) and reads them for a fixed time in three ways, one after the other in
the same run:

- ``demux``   PyAV packets only (``Source.packets()``): the floor;
- ``sample``  the stream layer as deployed (``Source.frames()``, one keyframe per interval,
  every packet into the ring buffer);
- ``cv2``     baseline: ``cv2.VideoCapture.read()`` decodes every frame to BGR.

Prints CPU % of one core per camera (process CPU time / wall time / K) and cameras per core.

    .venv/bin/python bench/bench_streams.py --cameras 4 --seconds 20
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", "rtsp_transport;tcp")

import cv2

from streams import Source, StreamSettings, open_source
from streams.simulator import Simulator, free_port
from streams.testvideo import make_test_video


@dataclass
class Result:
    mode: str
    cameras: int
    seconds: float
    cpu_seconds: float
    frames: int
    packets: int

    @property
    def pct_per_camera(self) -> float:
        return 100.0 * self.cpu_seconds / self.seconds / self.cameras

    @property
    def cameras_per_core(self) -> float:
        return 100.0 / self.pct_per_camera if self.pct_per_camera > 0 else float("inf")


class Counter:
    """What one camera's worker has read so far."""

    def __init__(self) -> None:
        self.frames = 0
        self.packets = 0
        self.source: Source | None = None

    def read(self) -> tuple[int, int]:
        """(frames, packets); a stream-layer source counts its own packets."""
        if self.source is not None:
            status = self.source.status
            return status.frames, status.packets
        return self.frames, self.packets


Worker = Callable[[threading.Event, Counter], None]


def _pyav_worker(url: str, mode: str, interval: float) -> Worker:
    def work(stop: threading.Event, n: Counter) -> None:
        settings = StreamSettings(sample_interval=interval, open_timeout=20, read_timeout=10)
        with open_source(url, settings) as src:
            n.source = src
            items = src.packets(stop) if mode == "demux" else src.frames(stop)
            for _ in items:
                pass

    return work


def _cv2_worker(url: str) -> Worker:
    def work(stop: threading.Event, n: Counter) -> None:
        cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
        try:
            while not stop.is_set():
                ok, _ = cap.read()
                if not ok:
                    break
                n.frames += 1
                n.packets += 1
        finally:
            cap.release()

    return work


def run_mode(
    mode: str, urls: list[str], seconds: float, interval: float, warmup: float = 3.0
) -> Result:
    stop = threading.Event()
    counters = [Counter() for _ in urls]
    workers = [_cv2_worker(u) if mode == "cv2" else _pyav_worker(u, mode, interval) for u in urls]
    threads = [
        threading.Thread(target=w, args=(stop, c), daemon=True)
        for w, c in zip(workers, counters, strict=True)
    ]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while any(c.read() == (0, 0) for c in counters):  # every camera connected
        if time.monotonic() > deadline:
            raise SystemExit(f"{mode}: cameras did not all start within 60 s")
        time.sleep(0.05)
    time.sleep(warmup)  # past the connection burst
    f0, p0 = _totals(counters)
    c0, w0 = time.process_time(), time.perf_counter()
    time.sleep(seconds)
    c1, w1 = time.process_time(), time.perf_counter()
    f1, p1 = _totals(counters)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    return Result(mode, len(urls), w1 - w0, c1 - c0, f1 - f0, p1 - p0)


def _totals(counters: list[Counter]) -> tuple[int, int]:
    reads = [c.read() for c in counters]
    return sum(f for f, _ in reads), sum(p for _, p in reads)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cameras", type=int, default=4, help="K simulated cameras (4)")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured time per mode (20)")
    ap.add_argument("--interval", type=float, default=10.0, help="sample interval, s (10)")
    ap.add_argument("--video", type=Path, help="1080p video to serve (default: made with ffmpeg)")
    ap.add_argument("--modes", default="demux,sample,cv2", help="comma-separated modes to run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-streams-") as tmp:
        video = args.video
        if video is None:
            print("making a 10 s 1080p25 H.264 test video (keyframe every 2 s, 4 Mb/s)…")
            video = make_test_video(
                Path(tmp) / "cam1080.mp4", seconds=10, size=(1920, 1080), gop=50, bitrate="4M"
            )
        with Simulator([video] * args.cameras, free_port()) as sim:
            results = [
                run_mode(m, sim.urls, args.seconds, args.interval) for m in args.modes.split(",")
            ]
    print(f"\n{args.cameras} cameras, 1080p25 H.264, {args.seconds:g} s per mode, "
          f"sample interval {args.interval:g} s, {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'mode':<8}{'CPU %/camera':>14}{'cameras/core':>14}{'frames':>9}{'packets':>9}")
    for r in results:
        print(
            f"{r.mode:<8}{r.pct_per_camera:>14.2f}{r.cameras_per_core:>14.0f}"
            f"{r.frames:>9}{r.packets:>9}"
        )


if __name__ == "__main__":
    main()

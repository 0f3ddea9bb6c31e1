"""CPU and memory per camera of the full worker, beside a decode-every-frame baseline.

Serves K simulated 1080p25 H.264 RTSP cameras (the GStreamer simulator, a separate process
whose CPU is not counted) and measures, one after the other in the same run:

- ``worker``    `sitewatch worker` on all K cameras with every analysis on: keyframe
  sampling every ``--interval`` s, illumination normalisation, change against the
  long-term references, the transient model (YOLOX-Nano from ../shared/data, when present)
  and the structure model, tracking, evidence and the outbox;
- ``cv2``       baseline: one process decoding every frame of the K cameras to BGR with
  ``cv2.VideoCapture`` (what a naive per-frame pipeline pays before any analysis).

Each runs as its own process; its CPU time (utime + stime from /proc) over ``--seconds``
after a warm-up, and its resident memory at the end, are divided by K; the worker is also
run with one camera (same timing) for the marginal cost of each added camera.
Measure past the detector's warm-up (``warmup_samples`` × ``--interval``, 100 s by
default), whose buffers are freed when it ends.

    .venv/bin/python bench/bench_worker.py --cameras 8 --seconds 60
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from streams.simulator import Simulator, free_port
from streams.testvideo import make_test_video

ROOT = Path(__file__).resolve().parents[1]
YOLOX = ROOT.parent / "shared" / "data" / "models" / "yolox_nano_coco_416.onnx"
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_rss(pid: int) -> tuple[float, int]:
    """(CPU seconds of ``pid`` and its children so far, resident bytes now)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = sum(int(v) for v in fields[11:15]) / TICK  # utime stime cutime cstime
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
    return cpu, rss


def _measure(
    cmd: list[str], warmup: float, seconds: float, env: dict[str, str]
) -> tuple[float, int]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        time.sleep(warmup)
        if proc.poll() is not None:
            err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
            raise SystemExit(f"{cmd[0]} exited early: {err}")
        c0, t0 = _cpu_rss(proc.pid)[0], time.perf_counter()
        time.sleep(seconds)
        c1, rss = _cpu_rss(proc.pid)
        return (c1 - c0) / (time.perf_counter() - t0), rss
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _site(folder: Path, urls: list[str], interval: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cameras = [
        {
            "id": f"cam{i}",
            "url": u,
            "sample_interval": f"{interval:g}s",
            "zones": [
                {
                    "id": "all",
                    "unit": "南屿镇",
                    "polygon": [[0.05, 0.2], [0.95, 0.2], [0.95, 0.95], [0.05, 0.95]],
                }
            ],
        }
        for i, u in enumerate(urls)
    ]
    detector: dict[str, object] = {"threads": 1}
    if YOLOX.exists():
        detector["transient_model"] = str(YOLOX)
    site = {
        "cameras": cameras,
        "detector": detector,
        "storage": {
            "evidence_dir": str(folder / "evidence"),
            "reference_dir": str(folder / "refs"),
        },
        "worker": {"outbox_file": str(folder / "outbox.sqlite3")},
    }
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    return path


BASELINE = """
import sys, threading, cv2
def read(url):
    cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
    while cap.read()[0]:
        pass
ts = [threading.Thread(target=read, args=(u,), daemon=True) for u in sys.argv[1:]]
[t.start() for t in ts]; [t.join() for t in ts]
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cameras", type=int, default=8, help="K simulated cameras (8)")
    ap.add_argument("--seconds", type=float, default=60.0, help="measured time per mode (60)")
    ap.add_argument("--warmup", type=float, default=60.0, help="seconds before measuring (60)")
    ap.add_argument("--interval", type=float, default=10.0, help="sample interval, s (10)")
    args = ap.parse_args()
    env = {**os.environ, "OPENCV_FFMPEG_CAPTURE_OPTIONS": "rtsp_transport;tcp"}
    exe = str(Path(sys.executable).with_name("sitewatch"))
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as tmp:
        folder = Path(tmp)
        print("making a 20 s 1080p25 H.264 test video (keyframe every 2 s, 4 Mb/s)…", flush=True)
        video = make_test_video(
            folder / "cam1080.mp4", seconds=20, size=(1920, 1080), gop=50, bitrate="4M"
        )
        with Simulator([video] * args.cameras, free_port()) as sim:
            cfg = _site(folder, sim.urls, args.interval)
            worker = _measure(
                [exe, "worker", "--config", str(cfg), "--events-out", str(folder / "ev.jsonl")],
                args.warmup,
                args.seconds,
                env,
            )
            one = _site(folder / "one", sim.urls[:1], args.interval)
            single = _measure(  # the same timing, so the slope compares like with like
                [exe, "worker", "--config", str(one), "--events-out", str(folder / "e1.jsonl")],
                args.warmup,
                args.seconds,
                env,
            )
            base = _measure([sys.executable, "-c", BASELINE, *sim.urls], 10.0, args.seconds, env)
    k = args.cameras
    transient = (
        "YOLOX-Nano transient model on"
        if YOLOX.exists()
        else "no transient model (../shared/data absent)"
    )
    print(
        f"\n{k} cameras, 1080p25 H.264, {args.seconds:g} s measured, sample interval "
        f"{args.interval:g} s, {transient}, {os.cpu_count()} CPUs"
    )
    print(f"{'mode':<8}{'CPU %/camera':>14}{'cameras/core':>14}{'RSS MB/camera':>15}{'RSS MB':>9}")
    for name, (cpu, rss) in (("worker", worker), ("cv2", base)):
        pct = 100 * cpu / k
        print(
            f"{name:<8}{pct:>14.2f}{(100 / pct if pct else float('inf')):>14.0f}"
            f"{rss / k / 2**20:>15.1f}{rss / 2**20:>9.0f}"
        )
    if k > 1:
        mem = (worker[1] - single[1]) / (k - 1) / 2**20
        cpu = 100 * (worker[0] - single[0]) / (k - 1)
        print(
            f"worker: {single[1] / 2**20:.0f} MB and {100 * single[0]:.2f} % of a core with one "
            f"camera (runtime, models), then {mem:.1f} MB and {cpu:.2f} % per added camera"
        )
    print("targets: worker ≤ 1 % of a core per camera (≥ 100 cameras per core), ≤ 40 MB per camera")


if __name__ == "__main__":
    main()

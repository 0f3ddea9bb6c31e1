"""Inference time per backend at 320 and 640 px on 1 and 2 threads.

    .venv/bin/python bench/bench_backends.py [--runs 20] [--image IMAGE]

Backends measured, each on the same image:
- ``yolox-onnx``: YOLOX-Nano COCO from ../shared/data (onnxruntime); the 416 px file is the
  baseline (DESIGN.md quotes about 15 ms on one core); 320 and 640 px copies are made by
  rewriting its input size (YOLOX has no fixed-size reshape).
- ``ultralytics-onnx``: the structure model (YOLO11n, 5 classes) exported at 320 and 640,
  on onnxruntime (what a worker without torch runs).
- ``ultralytics-pt``: the same weights through ``ultralytics.YOLO`` on torch.
Figures are the median and 90th percentile of ``backend.predict`` (pre- and
post-processing included) after two warm-up runs.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detector.backends import load_backend  # noqa: E402
from detector.backends.onnx import anchor_count  # noqa: E402
from detector.structure import default_structure_model  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SIZES = (320, 640)
THREADS = (1, 2)


def resize_yolox(src: Path, size: int, dst: Path) -> Path:
    """A copy of a YOLOX ONNX with a ``size`` × ``size`` input."""
    import onnx

    model = onnx.load(str(src))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_value = dims[3].dim_value = size
    model.graph.output[0].type.tensor_type.shape.dim[1].dim_value = anchor_count(size, size)
    del model.graph.value_info[:]
    onnx.save(model, str(dst))
    return dst


def export_sizes(weights: Path, work: Path) -> dict[int, Path]:
    """The ``.pt`` exported to ONNX at each size (into ``work``)."""
    from detector.training.train import export_onnx

    return {s: export_onnx(weights, work / f"structure_{s}.onnx", imgsz=s) for s in SIZES}


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median and 90th percentile in milliseconds."""
    for _ in range(2):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.9 * len(times)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--image", type=Path, default=DATA / "images" / "street.jpg")
    args = parser.parse_args()
    image = cv2.imread(str(args.image))
    if image is None:
        image = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    yolox = DATA / "models" / "yolox_nano_coco_416.onnx"
    weights = default_structure_model().with_suffix(".pt")
    rows: list[tuple[str, str, int, int, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases: list[tuple[str, int, Path, int | None]] = []
        if yolox.is_file():
            cases.append(("yolox-onnx (baseline)", 416, yolox, None))
            cases += [
                ("yolox-onnx", s, resize_yolox(yolox, s, work / f"yx{s}.onnx"), None) for s in SIZES
            ]
        else:
            print(f"skipping YOLOX: {yolox} not found")
        if weights.is_file():
            cases += [
                ("ultralytics-onnx", s, p, None) for s, p in export_sizes(weights, work).items()
            ]
            cases += [("ultralytics-pt", s, weights, s) for s in SIZES]
        else:
            print(f"skipping the structure model: {weights} not found")
        load = os.getloadavg()[0]
        for name, size, path, imgsz in cases:  # 1 and 2 threads back to back: same machine load
            for threads in THREADS:
                backend = load_backend(path, threads=threads, imgsz=imgsz)
                med, p90 = timed(functools.partial(backend.predict, image), args.runs)
                rows.append((name, path.name, size, threads, med, p90))
    h, w = image.shape[:2]
    print(f"\nimage {args.image.name} {w}×{h}, {args.runs} runs each, ms per predict()")
    print(
        f"load average {load:.1f} / {os.cpu_count()} cores at start (others' jobs slow 2 threads)"
    )
    print(f"{'backend':<22} {'file':<28} {'px':>4} {'thr':>3} {'median':>8} {'p90':>8} {'fps':>6}")
    for name, file, size, threads, med, p90 in rows:
        fps = 1000 / med
        print(f"{name:<22} {file:<28} {size:>4} {threads:>3} {med:>8.1f} {p90:>8.1f} {fps:>6.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

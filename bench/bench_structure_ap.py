"""Per-class AP50 of the structure model on the held-out synthetic set.

The held-out set is the model card's: 300 images from ``synth.dataset.sample_image``
(seed 1, 320 × 320; ``sitewatch dataset build heldout --synthetic 300 --size 320
--val-fraction 1.0 --seed 1`` writes the same images), never used in training. Every
detection at ``conf`` ≥ 0.001 (the backend's class-wise NMS at IoU 0.7, like ultralytics
``val``) is matched greedily by score with an unmatched labelled box of its class at IoU
≥ 0.5; AP50 is the area under the precision envelope sampled at 101 recall points (the
COCO / ultralytics interpolation). Runs on onnxruntime (or ultralytics for a ``.pt``).

    .venv/bin/python bench/bench_structure_ap.py                       # the shipped weights
    .venv/bin/python bench/bench_structure_ap.py OLD.onnx NEW.onnx     # before / after
    .venv/bin/python bench/bench_structure_ap.py --recorded            # shipped vs recorded

``--recorded`` puts the figures of the weights shipped before the labels were fixed
(``bench/structure_ap_before.json``, measured by this script on the same images) beside the
shipped model's.

``bench/bench_replay.py`` prints the same table through :func:`ap50_rows` and
:func:`format_rows`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from detector.backends import load_backend  # noqa: E402
from detector.boxes import iou_many  # noqa: E402
from detector.structure import default_structure_model  # noqa: E402
from synth.dataset import Label, sample_image  # noqa: E402
from synth.structures import STRUCTURE_CLASSES  # noqa: E402

HELD_OUT_SEED = 1
HELD_OUT_IMAGES = 300
SIZE = 320
ALL = "all"  # the row key of the mean over classes (mAP50)
RECORDED = Path(__file__).with_name("structure_ap_before.json")


def held_out(
    images: int = HELD_OUT_IMAGES, seed: int = HELD_OUT_SEED
) -> list[tuple[np.ndarray, list[Label]]]:
    """The held-out images with their labels (drawn afresh: deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    return [sample_image(rng, SIZE) for _ in range(images)]


def average_precision(scores: Sequence[float], hits: Sequence[bool], positives: int) -> float:
    """Area under the interpolated precision / recall curve (101 recall points)."""
    if positives == 0:
        return float("nan")
    if not len(scores):
        return 0.0
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    tp = np.cumsum(np.asarray(hits, np.float64)[order])
    fp = np.cumsum(1.0 - np.asarray(hits, np.float64)[order])
    recall = tp / positives
    precision = tp / np.maximum(tp + fp, 1e-12)
    envelope = np.flip(np.maximum.accumulate(np.flip(np.concatenate(([1.0], precision, [0.0])))))
    r = np.concatenate(([0.0], recall, [1.0]))
    grid = np.linspace(0.0, 1.0, 101)
    return float(np.trapezoid(np.interp(grid, r, envelope), grid))


def _match(
    boxes: np.ndarray, scores: np.ndarray, names: Sequence[str], labels: list[Label]
) -> list[tuple[str, float, bool]]:
    """(class, score, true positive?) per detection: greedy by score, same class, IoU ≥ 0.5."""
    out: list[tuple[str, float, bool]] = []
    free = [True] * len(labels)
    truth = np.asarray([b for _, b in labels], np.float32).reshape(-1, 4)
    for i in np.argsort(-scores, kind="stable"):
        name = names[i]
        best, hit = 0.5, -1
        if len(truth):
            ious = iou_many(boxes[i], truth)
            for j, (cls, _) in enumerate(labels):
                if free[j] and cls == name and ious[j] >= best:
                    best, hit = float(ious[j]), j
        if hit >= 0:
            free[hit] = False
        out.append((name, float(scores[i]), hit >= 0))
    return out


def ap50(
    weights: Path, data: list[tuple[np.ndarray, list[Label]]], *, threads: int = 2
) -> dict[str, float]:
    """AP50 per class of ``weights`` on ``data``, and their mean under :data:`ALL`."""
    backend = load_backend(weights, threads=threads)
    found: list[tuple[str, float, bool]] = []
    counts = dict.fromkeys(STRUCTURE_CLASSES, 0)
    for image, labels in data:
        det = backend.predict(image, conf=0.001, iou=0.7)
        found.extend(_match(det.xyxy, det.confidence, det.class_name, labels))
        for cls, _ in labels:
            counts[cls] += 1
    out = {
        cls: average_precision(
            [s for n, s, _ in found if n == cls], [h for n, _, h in found if n == cls], counts[cls]
        )
        for cls in STRUCTURE_CLASSES
    }
    out[ALL] = float(np.nanmean(list(out.values())))
    return out


def ap50_rows(
    weights_paths: Sequence[Path], images: int = HELD_OUT_IMAGES
) -> list[tuple[str, dict[str, float]]]:
    """(weights file name, AP50 per class and ``all``) for each file, on the same images."""
    data = held_out(images)
    return [(Path(p).name, ap50(Path(p), data)) for p in weights_paths]


def recorded_before() -> tuple[str, dict[str, float]]:
    """The AP50 row of the weights shipped before one box per pile (measured by this script)."""
    doc = json.loads(RECORDED.read_text(encoding="utf-8"))
    return "before (recorded)", {str(k): float(v) for k, v in doc["ap50"].items()}


def box_counts(images: int = HELD_OUT_IMAGES) -> dict[str, int]:
    """Labelled boxes per class in the held-out set."""
    counts = dict.fromkeys(STRUCTURE_CLASSES, 0)
    for _, labels in held_out(images):
        for cls, _ in labels:
            counts[cls] += 1
    counts[ALL] = sum(counts.values())
    return counts


def format_rows(rows: list[tuple[str, dict[str, float]]]) -> str:
    """A markdown table: one row per class (and ``all``), one AP50 column per weights file;
    with two files, a last column with the change."""
    head = ["class", *(name for name, _ in rows)]
    if len(rows) == 2:
        head.append("change")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for cls in [*STRUCTURE_CLASSES, ALL]:
        cells = [f"{ap[cls]:.3f}" for _, ap in rows]
        if len(rows) == 2:
            cells.append(f"{rows[1][1][cls] - rows[0][1][cls]:+.3f}")
        lines.append(f"| {cls} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("weights", nargs="*", type=Path, help="default: the shipped model")
    parser.add_argument("--images", type=int, default=HELD_OUT_IMAGES)
    parser.add_argument(
        "--recorded", action="store_true", help="add the recorded figures of the old weights"
    )
    args = parser.parse_args()
    paths = args.weights or [default_structure_model()]
    if args.recorded and (len(paths) != 1 or args.images != HELD_OUT_IMAGES):
        parser.error("--recorded compares one weights file on the full held-out set")
    start = time.perf_counter()
    rows = ap50_rows(paths, args.images)
    if args.recorded:
        rows = [recorded_before(), *rows]
    print(
        f"structure model AP50 on {args.images} held-out synthetic images "
        f"(seed {HELD_OUT_SEED}, {SIZE} px)"
    )
    print(format_rows(rows))
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()

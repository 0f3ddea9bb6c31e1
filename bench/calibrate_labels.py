"""Calibrate the structure model's per-class confidence: below it a label is ``change``.

On held-out synthetic images (``synth.dataset.sample_image``, another seed than
training), every detection of the model is matched with the labelled structures (IoU
≥ 0.5, greedy by score). For each class, the calibrated confidence is the lowest score
from which on the detections named that class are right at least ``--precision`` of
the time (a detection of a structure of another class, or of nothing, is wrong). A
class that never reaches the precision gets 1.0: its name is never reported. The
result is written next to the weights (``<model>.labels.json``), which
``detector.structure.StructureLabeler`` reads.

    .venv/bin/python bench/calibrate_labels.py                  # 300 images, precision 0.9
    .venv/bin/python bench/calibrate_labels.py --images 600 --precision 0.8
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from detector.backends import load_backend
from detector.boxes import iou
from detector.structure import default_structure_model, label_floors_path
from synth.dataset import sample_image


def detections(model: Path, images: int, size: int, seed: int) -> list[tuple[str, float, bool]]:
    """(class named, score, right?) for every detection on ``images`` held-out images."""
    backend = load_backend(model)
    rng = np.random.default_rng(seed)
    out: list[tuple[str, float, bool]] = []
    for _ in range(images):
        image, labels = sample_image(rng, size)
        found = backend.predict(image, conf=0.05)
        order = np.argsort(-found.confidence)
        free = list(range(len(labels)))
        for i in order:
            box = (float(v) for v in found.xyxy[i])
            x1, y1, x2, y2 = box
            name = found.class_name[i]
            overlaps = [iou((x1, y1, x2, y2), labels[j][1]) for j in free]
            hit = free[int(np.argmax(overlaps))] if overlaps and max(overlaps) >= 0.5 else None
            if hit is not None:
                free.remove(hit)
            right = hit is not None and labels[hit][0] == name
            out.append((name, float(found.confidence[i]), right))
    return out


def floors(found: list[tuple[str, float, bool]], precision: float) -> dict[str, float]:
    """Per class: the lowest score from which on its detections reach ``precision``."""
    out: dict[str, float] = {}
    for name in sorted({n for n, _, _ in found}):
        mine = sorted(((s, r) for n, s, r in found if n == name), reverse=True)
        floor, right = 1.0, 0
        for k, (score, ok) in enumerate(mine, start=1):
            right += ok
            if right / k >= precision:
                floor = score
        out[name] = round(floor, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=default_structure_model())
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--seed", type=int, default=1, help="1: the model card's held-out seed")
    parser.add_argument("--precision", type=float, default=0.9)
    parser.add_argument("--out", type=Path, help="default: next to the model")
    args = parser.parse_args()
    found = detections(args.model, args.images, args.size, args.seed)
    result = floors(found, args.precision)
    print(f"{'class':24s} {'detections':>10s} {'right':>6s} {'calibrated confidence':>22s}")
    for name, floor in result.items():
        mine = [r for n, _, r in found if n == name]
        print(f"{name:24s} {len(mine):10d} {sum(mine):6d} {floor:22.3f}")
    out = args.out or label_floors_path(args.model)
    doc = {
        "model": args.model.name,
        "precision": args.precision,
        "images": args.images,
        "size": args.size,
        "seed": args.seed,
        "min_score": result,
    }
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()

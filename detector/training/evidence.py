"""Reviewed evidence folders → labelled training samples (format in ``docs/evidence.md``).

A folder with ``review.json`` ``{"decision": "confirmed", "label": CLASS}`` becomes a
positive: ``frame.jpg`` with the detection's ``bbox`` (or the reviewer's ``boxes``).
``{"decision": "dismissed"}`` becomes a hard negative: ``frame.jpg`` with no boxes.
Folders without ``review.json`` are not reviewed yet and are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

Box = tuple[str, tuple[float, float, float, float]]


@dataclass(frozen=True)
class ReviewedSample:
    """One reviewed frame: the image file and its boxes (empty for a hard negative)."""

    folder: Path
    image: Path
    decision: str
    boxes: tuple[Box, ...]


@dataclass
class EvidenceScan:
    """What a scan of evidence roots found."""

    samples: list[ReviewedSample] = field(default_factory=list)
    unreviewed: int = 0
    problems: list[str] = field(default_factory=list)


def _box(values: Sequence[Any], label: str, scale: tuple[float, float], where: str) -> Box:
    if len(values) != 4:
        raise ValueError(f"{where}: a box needs 4 numbers x1, y1, x2, y2, got {list(values)}")
    x1, y1, x2, y2 = (float(v) for v in values)
    sx, sy = scale
    if x2 <= x1 or y2 <= y1:
        raise ValueError(f"{where}: box {list(values)} has no area (x2 ≤ x1 or y2 ≤ y1)")
    return label, (x1 * sx, y1 * sy, x2 * sx, y2 * sy)


def _frame_scale(detection: dict[str, Any], width: int, height: int) -> tuple[float, float]:
    """``bbox`` is in source pixels (``frame_size``); ``frame.jpg`` may be smaller."""
    size = detection.get("frame_size")
    if isinstance(size, list | tuple) and len(size) == 2 and size[0] and size[1]:
        return width / float(size[0]), height / float(size[1])
    return 1.0, 1.0


def read_reviewed(folder: Path, classes: Sequence[str]) -> ReviewedSample:
    """The training sample of one reviewed folder; ``ValueError`` says what is wrong."""
    review = json.loads((folder / "review.json").read_text(encoding="utf-8"))
    decision = review.get("decision")
    image = folder / "frame.jpg"
    if not image.is_file():
        raise ValueError(f"{folder}: frame.jpg is missing")
    if decision == "dismissed":
        return ReviewedSample(folder, image, "dismissed", ())
    if decision != "confirmed":
        raise ValueError(
            f"{folder}/review.json: decision must be confirmed or dismissed, got {decision!r}"
        )
    try:
        with Image.open(image) as pixels:
            width, height = pixels.size
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{image}: not a readable image ({exc})") from exc
    if "boxes" in review:
        rows = review["boxes"]
        boxes = tuple(
            _box(row[:4], str(row[4]), (1.0, 1.0), f"{folder}/review.json boxes[{i}]")
            for i, row in enumerate(rows)
        )
    else:
        detection = json.loads((folder / "detection.json").read_text(encoding="utf-8"))
        label = review.get("label")
        if not label:
            raise ValueError(f"{folder}/review.json: a confirmed review needs a label")
        scale = _frame_scale(detection, width, height)
        if "bbox" not in detection:
            raise ValueError(f"{folder}/detection.json: no bbox")
        boxes = (_box(detection["bbox"], str(label), scale, f"{folder}/detection.json bbox"),)
    unknown = sorted({name for name, _ in boxes if name not in classes})
    if unknown:
        raise ValueError(f"{folder}: label {unknown} is not one of the classes {list(classes)}")
    return ReviewedSample(folder, image, "confirmed", boxes)


def reviewed_folders(root: Path) -> Iterator[Path]:
    """Evidence folders under ``root`` (any depth): those holding ``detection.json``."""
    for detection in sorted(root.rglob("detection.json")):
        yield detection.parent


def scan_evidence(roots: Sequence[Path], classes: Sequence[str]) -> EvidenceScan:
    """Every reviewed sample under ``roots``; bad folders are listed in ``problems``."""
    scan = EvidenceScan()
    for root in roots:
        if not root.is_dir():
            scan.problems.append(f"{root}: evidence folder not found")
            continue
        for folder in reviewed_folders(root):
            if not (folder / "review.json").is_file():
                scan.unreviewed += 1
                continue
            try:
                scan.samples.append(read_reviewed(folder, classes))
            except json.JSONDecodeError as exc:
                scan.problems.append(f"{folder}: invalid JSON ({exc})")
            except ValueError as exc:
                scan.problems.append(str(exc))
            except (KeyError, OSError) as exc:
                scan.problems.append(f"{folder}: {exc!r}")
    return scan

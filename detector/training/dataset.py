"""Write a YOLO-format dataset: ``images/{train,val}``, ``labels/{train,val}``, ``data.yaml``.

Sources: synthetic scenes from :func:`synth.dataset.sample_image` (structures
pasted into day, night and IR scenes) and reviewed evidence folders (confirmed → boxes,
dismissed → hard negative with an empty label file). Label lines are
``class cx cy w h`` normalised to 0..1, one box per line.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
import yaml

from detector.training.evidence import Box, scan_evidence

SPLITS = ("train", "val")
Progress = Callable[[int, int], None]
# (rng, (width, height), classes) -> (BGR image, [(class, (x1, y1, x2, y2))]); the CLI
# passes ``synth.dataset.sample_image`` (``detector`` does not import ``synth``).
Sampler = Callable[
    [np.random.Generator, tuple[int, int], Sequence[str]], tuple[np.ndarray, Sequence[Box]]
]


def label_lines(boxes: Sequence[Box], classes: Sequence[str], width: int, height: int) -> list[str]:
    """YOLO label lines for ``boxes`` in an image of ``width`` × ``height`` pixels.

    Boxes are clipped to the image; boxes left with no area are dropped.
    """
    lines = []
    for name, (x1, y1, x2, y2) in boxes:
        x1, x2 = np.clip([x1, x2], 0, width)
        y1, y2 = np.clip([y1, y2], 0, height)
        if x2 - x1 < 1 or y2 - y1 < 1:
            continue
        cx, cy = (x1 + x2) / 2 / width, (y1 + y2) / 2 / height
        w, h = (x2 - x1) / width, (y2 - y1) / height
        lines.append(f"{classes.index(name)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}")
    return lines


@dataclass
class DatasetSummary:
    """Counts of what went into a dataset (also written as ``dataset.json``)."""

    root: str
    classes: list[str]
    images: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))
    boxes: dict[str, int] = field(default_factory=dict)
    synthetic: int = 0
    confirmed: int = 0
    dismissed: int = 0
    unreviewed: int = 0
    problems: list[str] = field(default_factory=list)


class DatasetWriter:
    """Adds images with boxes to a YOLO dataset folder and writes ``data.yaml`` at the end."""

    def __init__(self, root: Path, classes: Sequence[str], *, overwrite: bool = False) -> None:
        if not classes:
            raise ValueError("classes: expected at least one class name, got none")
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes: names must be unique, got {list(classes)}")
        if root.exists() and any(root.iterdir()):
            if not overwrite:
                raise FileExistsError(f"{root}: dataset folder is not empty (use overwrite)")
            shutil.rmtree(root)
        self.root = root
        self.classes = tuple(classes)
        for split in SPLITS:
            (root / "images" / split).mkdir(parents=True, exist_ok=True)
            (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        self.summary = DatasetSummary(root=str(root), classes=list(classes))
        self.summary.boxes = dict.fromkeys(classes, 0)

    def add_array(self, name: str, split: str, image: np.ndarray, boxes: Sequence[Box]) -> None:
        """Write ``image`` (BGR) as ``images/<split>/<name>.jpg`` with its labels."""
        path = self.root / "images" / split / f"{name}.jpg"
        if not cv2.imwrite(str(path), image, [cv2.IMWRITE_JPEG_QUALITY, 92]):
            raise OSError(f"{path}: could not write image")
        self._labels(name, split, boxes, image.shape[1], image.shape[0])

    def add_file(
        self, name: str, split: str, image: Path, boxes: Sequence[Box], size: tuple[int, int]
    ) -> None:
        """Copy the JPEG ``image`` (``size`` = width, height) unchanged, with its labels."""
        shutil.copyfile(image, self.root / "images" / split / f"{name}{image.suffix.lower()}")
        self._labels(name, split, boxes, size[0], size[1])

    def _labels(self, name: str, split: str, boxes: Sequence[Box], width: int, height: int) -> None:
        if split not in SPLITS:
            raise ValueError(f"split: expected one of {SPLITS}, got {split!r}")
        lines = label_lines(boxes, self.classes, width, height)
        text = "\n".join(lines) + ("\n" if lines else "")
        (self.root / "labels" / split / f"{name}.txt").write_text(text, encoding="utf-8")
        self.summary.images[split] += 1
        for line in lines:
            self.summary.boxes[self.classes[int(line.split()[0])]] += 1

    def finish(self) -> Path:
        """Write ``data.yaml`` (and ``dataset.json``); returns the ``data.yaml`` path."""
        val = "images/val"
        if self.summary.images["val"] == 0:
            val = "images/train"
            self.summary.problems.append("no validation images: validating on the train split")
        data = {
            "path": str(self.root.resolve()),
            "train": "images/train",
            "val": val,
            "names": dict(enumerate(self.classes)),
        }
        path = self.root / "data.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        (self.root / "dataset.json").write_text(
            json.dumps(asdict(self.summary), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        return path


def split_of(key: str, val_fraction: float) -> str:
    """A stable split for ``key``: the same folder lands in the same split on every build."""
    bucket = int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "val" if bucket < val_fraction else "train"


def add_synthetic(
    writer: DatasetWriter,
    sample_image: Sampler,
    count: int,
    size: tuple[int, int],
    *,
    seed: int = 0,
    val_fraction: float = 0.2,
    progress: Progress | None = None,
) -> None:
    """``count`` scenes of ``size`` (width, height) drawn by ``sample_image``, ``val_fraction``
    held out."""
    rng = np.random.default_rng(seed)
    n_val = round(count * val_fraction)
    for i in range(count):
        image, boxes = sample_image(rng, size, writer.classes)
        split = "val" if i < n_val else "train"
        writer.add_array(f"synth_{seed}_{i:06d}", split, image, boxes)
        writer.summary.synthetic += 1
        if progress is not None:
            progress(i + 1, count)


def add_reviewed(
    writer: DatasetWriter, roots: Sequence[Path], *, val_fraction: float = 0.2
) -> None:
    """Every reviewed evidence folder under ``roots``: confirmed → boxes, dismissed → none."""
    from PIL import Image

    scan = scan_evidence(roots, writer.classes)
    writer.summary.unreviewed += scan.unreviewed
    writer.summary.problems.extend(scan.problems)
    for sample in scan.samples:
        key = "_".join(sample.folder.parts[-2:])
        name = "ev_" + "".join(c if c.isalnum() or c in "-_" else "_" for c in key)
        with Image.open(sample.image) as img:
            size = img.size
        writer.add_file(name, split_of(key, val_fraction), sample.image, sample.boxes, size)
        if sample.decision == "confirmed":
            writer.summary.confirmed += 1
        else:
            writer.summary.dismissed += 1

"""Labels a confirmed change with the structure class the structure model sees in it.

The pipeline crops the changed region (padded) from the current frame and from the
long-term reference and asks :meth:`StructureLabeler.label` what is there. The answer is
a class name and a score in 0..1: high when the model sees the structure now and did not
see it in the reference, low when it saw the same thing before (an old structure in new
light) or sees it only faintly. ``None`` means no structure class was found at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from detector.backends.base import Backend
from detector.backends.common import PAD_VALUE
from detector.boxes import iou_many
from detector.types import Detections

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_MODEL_NAME = "structure_yolo11n_320.onnx"
DEFAULT_INPUT = 320


def default_structure_model() -> Path:
    """The shipped structure model (ONNX, runs without torch); see ``weights/MODEL_CARD.md``."""
    return WEIGHTS_DIR / DEFAULT_MODEL_NAME


def label_floors_path(model: Path) -> Path:
    """Where the per-class calibrated confidences of ``model`` are kept (next to it)."""
    return model.with_name(model.stem + ".labels.json")


def load_label_floors(model: Path) -> dict[str, float]:
    """The calibrated confidence per class of ``model`` (``bench/calibrate_labels.py``);
    empty when the model has none (then every label counts)."""
    path = label_floors_path(model)
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): float(v) for k, v in data.get("min_score", {}).items()}


def _backend_input(backend: Backend) -> int:
    """The model input side a backend reports (``imgsz`` int or (h, w)), else 320."""
    size = getattr(backend, "imgsz", None)
    if isinstance(size, int):
        return size
    if isinstance(size, tuple) and size:
        return int(max(size))
    return DEFAULT_INPUT


class StructureLabeler:
    """Names the structure in a changed region and scores how new it is.

    ``backend``: the structure model; ``classes``: the class names that count (a subset of
    ``backend.names``, e.g. ``detector.structure_classes`` from the config); ``min_score``:
    the lowest model score considered at all; ``same_iou``: how much a reference detection
    of the same class must overlap to count as "already there before"; ``input_size``: the
    model's input side (default: the backend's ``imgsz``, else 320). Crops smaller than the
    input are padded grey, not enlarged: the model learned structures at scene scale, and
    enlarging a small crop cost about a third of the correct labels on synthetic scenes.
    ``floors``: the calibrated confidence per class (``load_label_floors``): a label scored
    under its class's floor is not trusted to name the class (:meth:`trusted`).
    """

    def __init__(
        self,
        backend: Backend,
        classes: Sequence[str],
        *,
        min_score: float = 0.25,
        same_iou: float = 0.3,
        input_size: int | None = None,
        floors: Mapping[str, float] | None = None,
    ) -> None:
        known = set(backend.names.values())
        if not classes:
            raise ValueError("classes: expected at least one structure class, got none")
        missing = [c for c in classes if c not in known]
        if missing:
            raise ValueError(
                f"classes: {missing} are not classes of the structure model "
                f"(it knows {sorted(known)})"
            )
        if not 0.0 < min_score < 1.0:
            raise ValueError(f"min_score: expected 0 < min_score < 1, got {min_score}")
        if not 0.0 < same_iou <= 1.0:
            raise ValueError(f"same_iou: expected 0 < same_iou <= 1, got {same_iou}")
        size = input_size if input_size is not None else _backend_input(backend)
        if not 32 <= size <= 4096:
            raise ValueError(f"input_size: expected 32..4096 pixels, got {size}")
        self.backend = backend
        self.input_size = size
        self.classes = tuple(classes)
        self.min_score = min_score
        self.same_iou = same_iou
        self.floors = dict(floors or {})
        bad = {k: v for k, v in self.floors.items() if not 0.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"floors: expected confidences in [0, 1], got {bad}")

    def trusted(self, name: str, score: float) -> bool:
        """Is ``score`` at least the calibrated confidence of class ``name``?"""
        return score >= self.floors.get(name, 0.0)

    def _structures(self, crop: np.ndarray) -> Detections:
        h, w = crop.shape[:2]
        if max(h, w) < self.input_size:  # top-left on grey: box coordinates stay the crop's
            canvas = np.full((self.input_size, self.input_size, 3), PAD_VALUE, np.uint8)
            canvas[:h, :w] = crop
            crop = canvas
        found = self.backend.predict(crop, conf=self.min_score)
        keep = [i for i, name in enumerate(found.class_name) if name in self.classes]
        return found[keep]

    def label(
        self, after_crop_bgr: np.ndarray, before_crop_bgr: np.ndarray | None = None
    ) -> tuple[str, float] | None:
        """``(class, score)`` for the most confident structure in ``after_crop_bgr``.

        score = after score × (1 − score of the same class at the same place in
        ``before_crop_bgr``), so a structure that was already in the reference scores low.
        Both crops must cover the same region (the before crop is resized if its size differs).
        """
        after = self._structures(after_crop_bgr)
        if len(after) == 0:
            return None
        best = int(np.argmax(after.confidence))
        name = after.class_name[best]
        score = float(after.confidence[best])
        if before_crop_bgr is not None:
            score *= 1.0 - self._seen_before(
                after.xyxy[best], name, after_crop_bgr, before_crop_bgr
            )
        return name, float(np.clip(score, 0.0, 1.0))

    def _seen_before(
        self, box: np.ndarray, name: str, after: np.ndarray, before: np.ndarray
    ) -> float:
        if before.shape[:2] != after.shape[:2]:
            import cv2

            before = cv2.resize(before, (after.shape[1], after.shape[0]))
        earlier = self._structures(before)
        same = [i for i, n in enumerate(earlier.class_name) if n == name]
        if not same:
            return 0.0
        overlap = iou_many(box, earlier.xyxy[same])
        scores = earlier.confidence[same][overlap >= self.same_iou]
        return float(scores.max()) if len(scores) else 0.0


def labeler_for(backend: Backend, model: Path, wanted: Iterable[str]) -> StructureLabeler | None:
    """The labeler ``sitewatch replay`` and the worker use: the ``wanted`` classes that
    ``backend`` (loaded from ``model``) knows, with the model's calibrated confidences;
    None when it knows none of them."""
    known = set(backend.names.values())
    classes = [c for c in sorted(set(wanted)) if c in known]
    if not classes:
        return None
    return StructureLabeler(backend, classes, floors=load_label_floors(model))

"""Box measures shared by the whole detector: one definition each.

Boxes are ``(x1, y1, x2, y2)`` with exclusive ends, in whatever pixels the caller works
in (analysis pixels for tracks, source pixels for events). :func:`iou_many` is the
vectorised form for model outputs (NMS, matching detections).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Box = tuple[int, int, int, int]
BoxF = tuple[float, float, float, float]


def area(b: BoxF) -> float:
    """Area of ``b`` (0 for an empty or inverted box)."""
    return max(0, b[2] - b[0]) * max(0, b[3] - b[1])


def side(b: Box) -> int:
    """The longer side of ``b``."""
    return max(b[2] - b[0], b[3] - b[1])


def intersection(a: BoxF, b: BoxF) -> float:
    """Area of the overlap of ``a`` and ``b``."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    return ix * iy


def common(a: Box, b: Box) -> Box | None:
    """The box ``a`` and ``b`` share, or None when they do not overlap."""
    x1, y1, x2, y2 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return (x1, y1, x2, y2) if x2 > x1 and y2 > y1 else None


def iou(a: BoxF, b: BoxF) -> float:
    """Intersection over union."""
    inter = intersection(a, b)
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def overlap(a: BoxF, b: BoxF) -> float:
    """Intersection over the smaller box's area."""
    small = min(area(a), area(b))
    return intersection(a, b) / small if small > 0 else 0.0


def inside(a: BoxF, b: BoxF) -> float:
    """Fraction of ``a``'s area that lies inside ``b``."""
    own = area(a)
    return intersection(a, b) / own if own > 0 else 0.0


def touch(a: Box, b: Box, gap: int) -> bool:
    """True when ``a`` and ``b`` overlap or lie closer than ``gap`` pixels, or than half
    the size of the smaller of the two (then they are taken for parts of one object)."""
    size = min(max(a[2] - a[0], a[3] - a[1]), max(b[2] - b[0], b[3] - b[1]))
    gap = max(gap, size // 2)
    return a[0] <= b[2] + gap and b[0] <= a[2] + gap and a[1] <= b[3] + gap and b[1] <= a[3] + gap


def union(boxes: Sequence[Box]) -> Box:
    """The smallest box holding all ``boxes``."""
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def iou_many(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one box (4,) with each of ``boxes`` (N, 4)."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    own = max(0.0, float(box[2] - box[0])) * max(0.0, float(box[3] - box[1]))
    areas = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(
        boxes[:, 3] - boxes[:, 1], 0, None
    )
    return np.asarray(inter / np.maximum(own + areas - inter, 1e-9))

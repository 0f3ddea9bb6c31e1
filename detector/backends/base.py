"""The interface every model backend implements (ultralytics, onnxruntime, YOLOX)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from detector.types import Detections


@runtime_checkable
class Backend(Protocol):
    """A loaded object detector.

    ``predict`` takes a BGR ``uint8`` image (H, W, 3) as OpenCV gives it and returns
    boxes in that image's pixels. ``names`` maps class id to class name.
    """

    names: dict[int, str]

    def predict(self, image: np.ndarray, conf: float = 0.25, iou: float = 0.45) -> Detections: ...


class ModelLoadError(ValueError):
    """A model file that cannot be loaded: the message names the file and why."""

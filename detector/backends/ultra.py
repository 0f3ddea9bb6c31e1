"""Backend for any format ``ultralytics.YOLO`` loads (.pt, TorchScript, OpenVINO, TensorRT…).

ultralytics and torch are imported when a model is loaded, never at module import, so a
worker without torch can still import :mod:`detector.backends`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from detector.backends.base import ModelLoadError
from detector.backends.common import check_image
from detector.backends.offline import prepare_ultralytics, set_torch_threads
from detector.backends.onnx import check_thresholds
from detector.types import Detections


class UltralyticsBackend:
    """An ultralytics detector on the CPU with torch's thread count set explicitly."""

    def __init__(
        self,
        path: str | Path,
        *,
        threads: int = 1,
        imgsz: int | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        if imgsz is not None and not 32 <= imgsz <= 4096:
            raise ValueError(f"imgsz: expected 32..4096 pixels, got {imgsz}")
        self.path = Path(path)
        self.threads = threads
        prepare_ultralytics(threads)
        self.model = _load_yolo(self.path)
        found: dict[int, str] = {int(k): str(v) for k, v in dict(self.model.names or {}).items()}
        if names is not None:
            if found and len(names) != len(found):
                raise ModelLoadError(
                    f"{self.path}: the model has {len(found)} classes but {len(names)} names "
                    f"were given ({', '.join(names)})"
                )
            found = dict(enumerate(names))
        self.names: dict[int, str] = found
        self.imgsz = imgsz or _trained_imgsz(self.model) or 640

    def __repr__(self) -> str:
        return (
            f"UltralyticsBackend({self.path.name}, {len(self.names)} classes, "
            f"imgsz={self.imgsz}, threads={self.threads})"
        )

    def predict(self, image: np.ndarray, conf: float = 0.25, iou: float = 0.45) -> Detections:
        """Detections in ``image`` pixels with score ≥ ``conf`` after NMS at ``iou``."""
        check_image(image)
        check_thresholds(conf, iou)
        set_torch_threads(self.threads)  # torch's count is per process: another backend may differ
        result = self.model.predict(
            image, conf=conf, iou=iou, imgsz=self.imgsz, device="cpu", verbose=False
        )[0]
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            return Detections.empty()
        classes = boxes.cls.cpu().numpy().astype(np.int64)
        return Detections(
            xyxy=boxes.xyxy.cpu().numpy(),
            confidence=boxes.conf.cpu().numpy(),
            class_id=classes,
            class_name=tuple(self.names.get(int(c), str(int(c))) for c in classes),
        )


def _load_yolo(path: Path) -> Any:
    try:
        from ultralytics import YOLO
    except ImportError as exc:
        raise ModelLoadError(
            f"{path}: this format needs ultralytics and torch (pip install 'sitewatch[train]'); "
            "export the model to ONNX to run it without them"
        ) from exc
    try:
        model = YOLO(str(path), task="detect")
    except Exception as exc:  # ultralytics raises many types for a bad file
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"{path}: ultralytics could not load it ({reason})") from exc
    task = getattr(model, "task", "detect")
    if task != "detect":
        raise ModelLoadError(f"{path}: an ultralytics {task!r} model, not a detector")
    return model


def _trained_imgsz(model: Any) -> int | None:
    """The image size the weights were trained at, when the checkpoint records it."""
    args = getattr(getattr(model, "model", None), "args", None)
    size = args.get("imgsz") if isinstance(args, dict) else None
    if isinstance(size, int):
        return size
    if isinstance(size, list | tuple) and size:
        return int(size[0])
    return None

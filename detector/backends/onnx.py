"""onnxruntime backend for ultralytics-exported ONNX and YOLOX ONNX (no torch import).

The model family is told apart by the output shape, with ultralytics metadata as a hint:

- ultralytics ``[1, 4 + nc, A]``: cx, cy, w, h in input pixels then class scores; centred
  letterbox, RGB, 0–1. End-to-end exports (``end2end`` metadata, or exported with
  ``nms=True``) give ``[1, K, 6]``: x1, y1, x2, y2, score, class, already suppressed (the
  NMS overlap threshold is the one baked in at export; ``iou`` is not applied again).
- YOLOX ``[1, A, 5 + nc]``: raw grid outputs decoded with strides 8/16/32
  (xy = (p + grid)·s, wh = exp(p)·s), objectness × class score; letterbox at the top-left,
  BGR, 0–255.

``A`` is the number of anchor points for the input size (3549 at 416 px, 2100 at 320 px).
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort

from detector.backends.base import ModelLoadError
from detector.backends.common import (
    MAX_DETECTIONS,
    batched_nms,
    build_detections,
    check_image,
    letterbox,
    parse_names,
    resolve_names,
    xywh_to_xyxy,
)
from detector.types import Detections

Layout = Literal["ultralytics", "ultralytics_e2e", "yolox"]
STRIDES = (8, 16, 32)
DEFAULT_IMGSZ = 640


def anchor_count(height: int, width: int) -> int:
    """Anchor points of a stride-8/16/32 detection head for this input size."""
    return sum((height // s) * (width // s) for s in STRIDES)


@dataclass(frozen=True)
class ModelLayout:
    """What the loader learned about an ONNX detector."""

    layout: Layout
    num_classes: int
    height: int
    width: int


def check_thresholds(conf: float, iou: float) -> None:
    """Raise ``ValueError`` naming the argument when a threshold is outside 0..1."""
    if not 0.0 <= conf <= 1.0:
        raise ValueError(f"conf: expected a score in 0..1, got {conf}")
    if not 0.0 <= iou <= 1.0:
        raise ValueError(f"iou: expected an overlap in 0..1, got {iou}")


def _input_size(
    path: Path, shape: Sequence[object], imgsz: int | None, meta: dict[str, str]
) -> tuple[int, int]:
    """Model input (height, width): the fixed shape, else ``imgsz``, else metadata, else 640."""
    if len(shape) != 4 or shape[1] not in (3, "3"):
        raise ModelLoadError(f"{path}: expected an image input [1, 3, H, W], got {list(shape)}")
    h, w = shape[2], shape[3]
    if isinstance(h, int) and isinstance(w, int):
        if imgsz is not None and (h, w) != (imgsz, imgsz):
            raise ModelLoadError(
                f"{path}: the model has a fixed {w}×{h} input; imgsz={imgsz} cannot be used "
                "(leave imgsz unset or export the model at that size)"
            )
        return h, w
    if imgsz is not None:
        return imgsz, imgsz
    try:
        size = ast.literal_eval(meta.get("imgsz", ""))
        return int(size[0]), int(size[1])
    except (ValueError, SyntaxError, TypeError, IndexError):
        return DEFAULT_IMGSZ, DEFAULT_IMGSZ


def detect_layout(
    path: Path, out_shape: Sequence[object], height: int, width: int, meta: dict[str, str]
) -> ModelLayout:
    """Tell ultralytics and YOLOX outputs apart from the output shape (and metadata)."""
    if len(out_shape) != 3:
        raise ModelLoadError(
            f"{path}: output shape {list(out_shape)} is neither ultralytics [1, 4+nc, A] "
            "nor YOLOX [1, A, 5+nc]"
        )
    _, a, b = out_shape
    anchors = anchor_count(height, width)
    from_ultralytics = "stride" in meta and "names" in meta
    if from_ultralytics and meta.get("task", "detect") != "detect":
        raise ModelLoadError(f"{path}: an ultralytics {meta['task']!r} model, not a detector")
    end_to_end = meta.get("end2end") == "True" or "'nms': True" in meta.get("args", "")
    if from_ultralytics and end_to_end and b == 6:
        return ModelLayout(
            "ultralytics_e2e", len(parse_names(meta.get("names")) or {}), height, width
        )
    if (
        isinstance(a, int)
        and a > 4
        and (b == anchors or (from_ultralytics and not isinstance(b, int)))
    ):
        return ModelLayout("ultralytics", a - 4, height, width)
    if a == anchors and isinstance(b, int) and b > 5 and not from_ultralytics:
        return ModelLayout("yolox", b - 5, height, width)
    raise ModelLoadError(
        f"{path}: output shape {list(out_shape)} matches neither ultralytics [1, 4+nc, {anchors}] "
        f"nor YOLOX [1, {anchors}, 5+nc] for a {width}×{height} input"
    )


def yolox_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Grid cell offsets (A, 2) and strides (A, 1) in YOLOX's output order."""
    grids, strides = [], []
    for s in STRIDES:
        hs, ws = height // s, width // s
        yv, xv = np.meshgrid(np.arange(hs), np.arange(ws), indexing="ij")
        grids.append(np.stack((xv, yv), axis=2).reshape(-1, 2))
        strides.append(np.full((hs * ws, 1), s))
    return np.concatenate(grids).astype(np.float32), np.concatenate(strides).astype(np.float32)


class OnnxBackend:
    """A YOLO detector on onnxruntime's CPU provider with an explicit thread count."""

    def __init__(
        self,
        path: str | Path,
        *,
        threads: int = 1,
        imgsz: int | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        if not 1 <= threads <= 64:
            raise ValueError(f"threads: expected 1..64, got {threads}")
        self.path = Path(path)
        self.threads = threads
        self.session = _open_session(self.path, threads)
        meta = dict(self.session.get_modelmeta().custom_metadata_map)
        inp = self.session.get_inputs()[0]
        self._input_name = inp.name
        height, width = _input_size(self.path, inp.shape, imgsz, meta)
        outputs = self.session.get_outputs()
        self.layout = detect_layout(self.path, outputs[0].shape, height, width, meta)
        count = self.layout.num_classes or len(names or ())
        self.names: dict[int, str] = resolve_names(
            self.path, count, names, parse_names(meta.get("names"))
        )
        if self.layout.layout == "yolox":
            self._grid, self._strides = yolox_grid(height, width)

    @property
    def imgsz(self) -> tuple[int, int]:
        """Model input (height, width)."""
        return self.layout.height, self.layout.width

    def __repr__(self) -> str:
        lay = self.layout
        return (
            f"OnnxBackend({self.path.name}, {lay.layout}, {len(self.names)} classes, "
            f"{lay.width}×{lay.height}, threads={self.threads})"
        )

    def predict(self, image: np.ndarray, conf: float = 0.25, iou: float = 0.45) -> Detections:
        """Detections in ``image`` pixels with score ≥ ``conf`` after class-wise NMS at ``iou``."""
        check_image(image)
        check_thresholds(conf, iou)
        yolox = self.layout.layout == "yolox"
        canvas, box = letterbox(image, self.layout.height, self.layout.width, center=not yolox)
        if yolox:
            tensor = canvas.transpose(2, 0, 1)[None].astype(np.float32)
        else:
            tensor = canvas[:, :, ::-1].transpose(2, 0, 1)[None].astype(np.float32) / 255.0
        raw = self.session.run(None, {self._input_name: np.ascontiguousarray(tensor)})[0][0]
        if self.layout.layout == "ultralytics_e2e":
            keep = raw[:, 4] >= conf
            rows = raw[keep][:MAX_DETECTIONS]
            return build_detections(
                rows[:, :4], rows[:, 4], rows[:, 5], self.names, box, image.shape
            )
        if yolox:
            xyxy, scores = self._decode_yolox(raw)
        else:
            xyxy, scores = xywh_to_xyxy(raw[:4].T), raw[4:].T
        classes = scores.argmax(axis=1)
        best = scores[np.arange(len(scores)), classes]
        keep = best >= conf
        xyxy, best, classes = xyxy[keep], best[keep], classes[keep]
        kept = batched_nms(xyxy, best, classes, iou)[:MAX_DETECTIONS]
        return build_detections(xyxy[kept], best[kept], classes[kept], self.names, box, image.shape)

    def _decode_yolox(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        xy = (raw[:, :2] + self._grid) * self._strides
        wh = np.exp(np.clip(raw[:, 2:4], -10.0, 10.0)) * self._strides
        scores = raw[:, 4:5] * raw[:, 5:]
        return xywh_to_xyxy(np.concatenate([xy, wh], axis=1)), scores


def _open_session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several private exception types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"{path}: not a loadable ONNX model ({reason})") from exc

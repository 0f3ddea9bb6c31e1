"""Pre- and post-processing shared by the backends: letterbox, NMS, class names.

Everything here is plain numpy/OpenCV so that the onnxruntime path never imports torch.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from detector.backends.base import ModelLoadError
from detector.boxes import iou_many
from detector.types import Detections

PAD_VALUE = 114
MAX_DETECTIONS = 300

COCO80 = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
    "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
    "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip


@dataclass(frozen=True)
class Letterbox:
    """How a source image was fitted into the model input: ``input = source * scale + pad``."""

    scale: float
    pad_x: float
    pad_y: float

    def to_source(self, xyxy: np.ndarray, width: int, height: int) -> np.ndarray:
        """Boxes in model-input pixels → source pixels, clipped to the source image."""
        out = xyxy.astype(np.float32).copy()
        out[:, [0, 2]] = (out[:, [0, 2]] - self.pad_x) / self.scale
        out[:, [1, 3]] = (out[:, [1, 3]] - self.pad_y) / self.scale
        out[:, [0, 2]] = out[:, [0, 2]].clip(0, width)
        out[:, [1, 3]] = out[:, [1, 3]].clip(0, height)
        return out


def letterbox(
    image: np.ndarray, height: int, width: int, *, center: bool
) -> tuple[np.ndarray, Letterbox]:
    """Resize ``image`` keeping its aspect ratio and pad it to ``height`` × ``width``.

    ``center=True`` pads both sides equally (ultralytics); ``center=False`` pads only the
    right and bottom (YOLOX). Padding is grey 114.
    """
    h, w = image.shape[:2]
    scale = min(height / h, width / w)
    new_w, new_h = round(w * scale), round(h * scale)
    resized = image if (new_w, new_h) == (w, h) else cv2.resize(image, (new_w, new_h))
    if center:
        dw, dh = (width - new_w) / 2, (height - new_h) / 2
        top, left = round(dh - 0.1), round(dw - 0.1)
    else:
        top = left = 0
    canvas = np.full((height, width, 3), PAD_VALUE, dtype=np.uint8)
    canvas[top : top + new_h, left : left + new_w] = resized
    return canvas, Letterbox(scale=scale, pad_x=float(left), pad_y=float(top))


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        order = rest[iou_many(boxes[i], boxes[rest]) <= iou]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(
    boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou: float
) -> np.ndarray:
    """Class-aware NMS: boxes of different classes never suppress each other."""
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    offset = classes.astype(np.float32)[:, None] * (float(boxes.max()) + 1.0)
    return nms(boxes + offset, scores, iou)


def xywh_to_xyxy(xywh: np.ndarray) -> np.ndarray:
    """Centre/size boxes to corner boxes."""
    half = xywh[:, 2:4] / 2
    return np.concatenate([xywh[:, :2] - half, xywh[:, :2] + half], axis=1)


def build_detections(
    xyxy: np.ndarray,
    scores: np.ndarray,
    classes: np.ndarray,
    names: Mapping[int, str],
    box: Letterbox,
    image_shape: tuple[int, ...],
) -> Detections:
    """The project's :class:`Detections` from boxes in model-input pixels."""
    if len(xyxy) == 0:
        return Detections.empty()
    height, width = image_shape[:2]
    classes = classes.astype(np.int64)
    return Detections(
        xyxy=box.to_source(xyxy, width, height),
        confidence=scores.astype(np.float32),
        class_id=classes,
        class_name=tuple(names.get(int(c), str(int(c))) for c in classes),
    )


def parse_names(raw: str | None) -> dict[int, str] | None:
    """Class names from ultralytics metadata (``"{0: 'person', …}"``), or None."""
    if not raw:
        return None
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, dict):
        return {int(k): str(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return {i: str(v) for i, v in enumerate(value)}
    return None


def resolve_names(
    path: Path, count: int, given: Sequence[str] | None, found: Mapping[int, str] | None
) -> dict[int, str]:
    """Names in this order: ``given`` (config), ``found`` (model metadata), COCO for 80
    classes, else ``class0``…; ``given`` must name every class the model outputs."""
    if given is not None:
        if len(given) != count:
            raise ModelLoadError(
                f"{path}: the model outputs {count} classes but {len(given)} names were "
                f"given ({', '.join(given)})"
            )
        return dict(enumerate(given))
    if found is not None and len(found) == count:
        return dict(found)
    if count == len(COCO80):
        return dict(enumerate(COCO80))
    return {i: f"class{i}" for i in range(count)}


def check_image(image: np.ndarray) -> None:
    """Raise ``ValueError`` unless ``image`` is a BGR uint8 (H, W, 3) array."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", None)
        raise ValueError(f"image: expected a BGR array of shape (H, W, 3), got shape {shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"image: expected dtype uint8, got {image.dtype}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image: empty image of shape {image.shape}")

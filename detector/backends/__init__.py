"""Model backends behind one interface (:class:`detector.backends.base.Backend`).

:func:`load_backend` picks the backend from the file: ``.onnx`` runs on onnxruntime
(ultralytics or YOLOX layout, told apart by the output shape; torch is never imported);
any other format ultralytics can load (``.pt``, ``.torchscript``, an ``*_openvino_model``
folder, ``.engine``…) runs through ``ultralytics.YOLO``, imported only then.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from detector.backends.base import Backend, ModelLoadError

__all__ = ["ULTRALYTICS_SUFFIXES", "Backend", "ModelLoadError", "load_backend"]

# Files ultralytics.YOLO loads (folders such as ``*_openvino_model`` are accepted too).
ULTRALYTICS_SUFFIXES = frozenset(
    {".pt", ".torchscript", ".engine", ".tflite", ".pb", ".xml", ".mnn", ".rknn", ".mlpackage"}
)


def load_backend(
    path: str | Path,
    *,
    threads: int = 1,
    imgsz: int | None = None,
    names: Sequence[str] | None = None,
) -> Backend:
    """Load a detector from ``path`` with ``threads`` CPU threads.

    ``imgsz`` overrides the input size where the model allows it (dynamic ONNX, ultralytics
    formats); ``names`` overrides the class names stored in the model (one per class).
    Raises :class:`ModelLoadError` naming the file and the reason when it is missing, of an
    unknown format, corrupt, or not a detector.
    """
    if not 1 <= threads <= 64:
        raise ValueError(f"threads: expected 1..64, got {threads}")
    if imgsz is not None and not 32 <= imgsz <= 4096:
        raise ValueError(f"imgsz: expected 32..4096 pixels, got {imgsz}")
    file = Path(path)
    if not file.exists():
        raise ModelLoadError(f"{file}: model file not found")
    suffix = file.suffix.lower()
    if file.is_dir():
        if not any(file.iterdir()):
            raise ModelLoadError(f"{file}: model folder is empty")
        from detector.backends.ultra import UltralyticsBackend

        return UltralyticsBackend(file, threads=threads, imgsz=imgsz, names=names)
    if file.stat().st_size == 0:
        raise ModelLoadError(f"{file}: model file is empty")
    if suffix == ".onnx":
        from detector.backends.onnx import OnnxBackend

        return OnnxBackend(file, threads=threads, imgsz=imgsz, names=names)
    if suffix in ULTRALYTICS_SUFFIXES:
        from detector.backends.ultra import UltralyticsBackend

        return UltralyticsBackend(file, threads=threads, imgsz=imgsz, names=names)
    known = ", ".join(sorted({".onnx", *ULTRALYTICS_SUFFIXES}))
    raise ModelLoadError(
        f"{file}: unknown model format {suffix or '(no suffix)'!r}; expected {known}"
    )

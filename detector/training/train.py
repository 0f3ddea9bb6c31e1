"""Train, evaluate and export a detector with ultralytics on the CPU, offline.

:func:`detector.backends.offline.prepare_ultralytics` runs first: no downloads, no pip
installs, a local font, torch threads set. Start from an architecture YAML
(``yolo11n.yaml``, random weights) or from a ``.pt`` to fine-tune (e.g. the shipped
``detector/weights/structure_yolo11n_320.pt``).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from detector.backends.offline import prepare_ultralytics


@dataclass(frozen=True)
class TrainSettings:
    """One training run. ``model``: architecture YAML or ``.pt`` to start from."""

    data: Path
    model: str = "yolo11n.yaml"
    epochs: int = 30
    imgsz: int = 320
    batch: int = 16
    threads: int = 2
    workers: int = 1
    out_dir: Path = Path("runs/structure")
    name: str = "train"
    patience: int = 100
    close_mosaic: int = 3
    seed: int = 0
    verbose: bool = True
    freeze: int = 0  # first N layers not trained (10: the YOLO11n backbone)
    fraction: float = 1.0  # share of the training images used
    hours: float | None = None  # stop after this long; epochs are refitted to it

    def __post_init__(self) -> None:
        if not 0.0 < self.fraction <= 1.0:
            raise ValueError(f"fraction: expected a share in (0, 1], got {self.fraction}")
        if self.hours is not None and not 0.0 < self.hours <= 1000.0:
            raise ValueError(f"hours: expected 0 < hours ≤ 1000, got {self.hours}")
        self._check_counts()

    def _check_counts(self) -> None:
        checks = (
            ("epochs", self.epochs, 1, 10_000),
            ("imgsz", self.imgsz, 32, 4096),
            ("batch", self.batch, 1, 1024),
            ("threads", self.threads, 1, 64),
            ("workers", self.workers, 0, 64),
            ("patience", self.patience, 1, 10_000),
            ("close_mosaic", self.close_mosaic, 0, 10_000),
            ("freeze", self.freeze, 0, 100),
        )
        for name, value, low, high in checks:
            if not low <= value <= high:
                raise ValueError(f"{name}: expected {low}..{high}, got {value}")
        if not self.data.is_file():
            raise ValueError(f"data: dataset YAML not found: {self.data}")


def _yolo(model: str, threads: int, verbose: bool) -> Any:
    import os

    os.environ.setdefault("YOLO_VERBOSE", "1" if verbose else "0")
    prepare_ultralytics(threads)
    from ultralytics import YOLO

    return YOLO(model, task="detect")


def train(settings: TrainSettings) -> Path:
    """Run the training; returns the best weights, ``<out_dir>/<name>/weights/best.pt``."""
    model = _yolo(settings.model, settings.threads, settings.verbose)
    run_dir = settings.out_dir.resolve() / settings.name
    if run_dir.exists():
        shutil.rmtree(run_dir)
    model.train(
        data=str(settings.data.resolve()),
        epochs=settings.epochs,
        imgsz=settings.imgsz,
        batch=settings.batch,
        device="cpu",
        workers=settings.workers,
        project=str(settings.out_dir.resolve()),
        name=settings.name,
        exist_ok=True,
        patience=settings.patience,
        close_mosaic=settings.close_mosaic,
        seed=settings.seed,
        deterministic=False,
        amp=False,
        plots=False,
        verbose=settings.verbose,
        # a .pt is fine-tuned from its weights; a YAML starts from random ones (nothing to fetch)
        pretrained=settings.model.endswith(".pt"),
        freeze=settings.freeze or None,
        fraction=settings.fraction,
        **({} if settings.hours is None else {"time": settings.hours}),
    )
    best = run_dir / "weights" / "best.pt"
    if not best.is_file():
        raise RuntimeError(f"training finished without {best}")
    return best


def evaluate(weights: Path, data: Path, *, imgsz: int, threads: int = 2) -> dict[str, float]:
    """mAP50, mAP50-95, precision and recall of ``weights`` on ``data``'s val split."""
    model = _yolo(str(weights), threads, verbose=False)
    with tempfile.TemporaryDirectory(prefix="sitewatch-val-") as tmp:  # nothing left behind
        metrics = model.val(
            data=str(data.resolve()), imgsz=imgsz, batch=8, device="cpu", plots=False,
            verbose=False, project=tmp, name="val",
        )  # fmt: skip
    box = metrics.box
    return {
        "map50": float(box.map50),
        "map50_95": float(box.map),
        "precision": float(box.mp),
        "recall": float(box.mr),
    }


def export_onnx(
    weights: Path, out: Path | None = None, *, imgsz: int | None = None, nms: bool = False
) -> Path:
    """Export ``weights`` to ONNX (fixed input, opset 17, simplified); returns the file.

    Without ``out`` the file lands next to ``weights`` as ``<stem>.onnx``. With ``out``,
    the export runs on a temporary copy so no file beside ``weights`` is touched.
    ``nms=True`` bakes non-maximum suppression into the graph (output ``[1, 300, 6]``).
    """
    if out is None:
        return _export(weights, imgsz, nms)
    with tempfile.TemporaryDirectory(prefix="sitewatch-export-") as tmp:
        copy = Path(tmp) / weights.name
        shutil.copyfile(weights, copy)
        produced = _export(copy, imgsz, nms)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(produced), out)
    return out


def _export(weights: Path, imgsz: int | None, nms: bool) -> Path:
    model = _yolo(str(weights), 1, verbose=False)
    args = getattr(model.model, "args", {}) or {}
    size = imgsz or int(args.get("imgsz", 640))
    return Path(
        model.export(format="onnx", imgsz=size, opset=17, simplify=True, dynamic=False, nms=nms)
    )

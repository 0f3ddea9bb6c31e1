"""Model commands: ``sitewatch detect``, ``dataset build``, ``train`` and ``export``.

Heavy imports (onnxruntime, torch, ultralytics) happen inside the command functions.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from detector.settings import DEFAULT_STRUCTURE_CLASSES
from sitewatch.cli.common import (
    IMAGE_SUFFIXES,
    CommandError,
    CommandFailed,
    existing_file,
    int_arg,
    number_arg,
    output_arg,
)
from sitewatch.cli.common import classes_arg as _classes


def _size(text: str) -> tuple[int, int]:
    """``320`` or ``480x320`` (width x height)."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected N or WxH pixels, got {text!r}") from None
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or not all(32 <= p <= 4096 for p in parts):
        raise argparse.ArgumentTypeError(f"expected N or WxH with 32..4096 pixels, got {text!r}")
    return parts[0], parts[1]


def register(sub: argparse._SubParsersAction) -> None:
    _register_detect(sub)
    _register_dataset(sub)
    _register_train(sub)
    _register_export(sub)


def _register_detect(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="run a model on one image and print its detections")
    p.add_argument("image", metavar="IMAGE", type=existing_file, help="image file (JPEG, PNG…)")
    p.add_argument(
        "--model",
        type=existing_file,
        help="ONNX, .pt or other ultralytics model (default: the shipped structure model)",
    )
    p.add_argument("--conf", type=number_arg(0, 1), default=0.25, help="lowest score shown (0..1)")
    p.add_argument("--iou", type=number_arg(0, 1), default=0.45, help="NMS overlap (0..1)")
    p.add_argument("--threads", type=int_arg(1, 64), default=1, help="CPU threads for inference")
    p.add_argument("--imgsz", type=int_arg(32, 4096), help="input size for models that allow it")
    p.add_argument(
        "--classes",
        "--names",
        dest="names",
        type=_classes,
        metavar="A,B",
        help="class names a,b,c (override the model's)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per detection")
    p.add_argument(
        "-o",
        "--output",
        "--save",
        dest="save",
        type=output_arg(IMAGE_SUFFIXES),
        metavar="OUT",
        help="also write the image with boxes drawn here (.jpg, .png…)",
    )
    p.set_defaults(func=run_detect)


def _register_dataset(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("dataset", help="build a YOLO training dataset (sitewatch dataset build)")
    inner = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    b = inner.add_parser(
        "build", help="synthetic scenes and reviewed evidence folders → images/, labels/, data.yaml"
    )
    b.add_argument("out", metavar="OUT", type=Path, help="dataset folder to write")
    b.add_argument(
        "--synthetic", type=int_arg(0, 1_000_000), default=0, help="number of synthetic images"
    )
    b.add_argument("--size", type=_size, default=(320, 320), help="synthetic size N or WxH")
    b.add_argument(
        "--evidence",
        type=Path,
        action="append",
        default=[],
        help="evidence folder root with reviewed detections (repeatable)",
    )
    b.add_argument(
        "--classes",
        type=_classes,
        default=list(DEFAULT_STRUCTURE_CLASSES),
        help="structure classes, comma-separated (default: the five standard ones)",
    )
    b.add_argument(
        "--val-fraction", type=number_arg(0, 1), default=0.2, help="share held out (0..1)"
    )
    b.add_argument("--seed", type=int, default=0, help="random seed for synthetic scenes")
    b.add_argument("--overwrite", action="store_true", help="replace OUT if it is not empty")
    b.set_defaults(func=run_dataset_build)


def _register_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a detector on a dataset with ultralytics (offline)")
    p.add_argument("data", metavar="DATA", type=Path, help="data.yaml from sitewatch dataset build")
    p.add_argument(
        "--model",
        default="yolo11n.yaml",
        help="architecture YAML (from scratch) or .pt to fine-tune (default: yolo11n.yaml)",
    )
    p.add_argument("--epochs", type=int_arg(1, 10000), default=30, help="training epochs")
    p.add_argument("--imgsz", type=int_arg(32, 4096), default=320, help="training image size")
    p.add_argument("--batch", type=int_arg(1, 1024), default=16, help="images per batch")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    p.add_argument("--workers", type=int, default=1, help="data loader processes")
    p.add_argument("--patience", type=int, default=100, help="stop after N epochs without gain")
    p.add_argument(
        "--close-mosaic", type=int, default=3, help="last N epochs without mosaic augmentation"
    )
    p.add_argument(
        "--freeze",
        type=int_arg(0, 100),
        default=0,
        help="first N layers kept as they are (10: the YOLO11n backbone; fine-tuning on a CPU)",
    )
    p.add_argument(
        "--fraction",
        type=number_arg(0, 1, low_open=True),
        default=1.0,
        help="share of training images used",
    )
    p.add_argument(
        "--hours",
        type=number_arg(0, 1000, low_open=True),
        default=None,
        help="stop after this many hours (epochs are refitted to the time)",
    )
    p.add_argument(
        "-o", "--output", "--out", dest="out", type=Path, default=Path("runs/structure"),
        help="runs folder",
    )  # fmt: skip
    p.add_argument("--name", default="train", help="run name under --out")
    p.add_argument(
        "--export",
        type=output_arg((".onnx",)),
        help="also export the best weights to this ONNX file",
    )
    p.set_defaults(func=run_train)


def _register_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export ultralytics weights (.pt) to ONNX")
    p.add_argument("weights", metavar="WEIGHTS", type=existing_file, help=".pt file")
    p.add_argument(
        "-o", "--output", "--out", dest="out", type=output_arg((".onnx",)),
        help="ONNX file to write (default: next to WEIGHTS)",
    )  # fmt: skip
    p.add_argument("--imgsz", type=int, help="input size (default: the training size)")
    p.add_argument("--nms", action="store_true", help="bake NMS into the ONNX graph")
    p.set_defaults(func=run_export)


def run_detect(args: argparse.Namespace) -> int:
    import cv2

    from detector.backends import ModelLoadError, load_backend
    from detector.structure import default_structure_model

    image = cv2.imread(str(args.image), cv2.IMREAD_COLOR)
    if image is None:
        raise CommandFailed(f"{args.image}: not a readable image (JPEG, PNG…)")
    model = args.model or default_structure_model()
    try:
        backend = load_backend(model, threads=args.threads, imgsz=args.imgsz, names=args.names)
        found = backend.predict(image, conf=args.conf, iou=args.iou)
    except (ModelLoadError, ValueError) as exc:
        raise CommandError(f"{model}: {exc}") from None
    if args.json:
        for record in found.records():
            print(json.dumps(record, ensure_ascii=False))
    else:
        h, w = image.shape[:2]
        print(f"{args.image}: {w}×{h}, {len(found)} detections ({Path(model).name})")
        for rec in found.records():
            x1, y1, x2, y2 = rec["bbox"]
            print(
                f"  {rec['label']:<24} {rec['score']:.2f}  {x1:7.1f} {y1:7.1f} {x2:7.1f} {y2:7.1f}"
            )
    if args.save:
        _draw(image, found.records(), args.save)
    return 0


def _draw(image: Any, records: list[dict[str, Any]], out: Path) -> None:
    import cv2
    import numpy as np

    canvas = np.array(image, copy=True)
    for rec in records:
        x1, y1, x2, y2 = (int(v) for v in rec["bbox"])
        cv2.rectangle(canvas, (x1, y1), (x2, y2), (0, 200, 255), 2)
        text = f"{rec['label']} {rec['score']:.2f}"
        cv2.putText(
            canvas, text, (x1, max(12, y1 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 200, 255)
        )
    if not cv2.imwrite(str(out), canvas):
        raise CommandFailed(f"cannot write {out}")


def run_dataset_build(args: argparse.Namespace) -> int:
    from detector.training.dataset import DatasetWriter, add_reviewed, add_synthetic
    from synth.dataset import sample_image

    if args.synthetic == 0 and not args.evidence:
        raise CommandError("give --synthetic N (N > 0) and/or --evidence DIR")
    try:
        writer = DatasetWriter(args.out, args.classes, overwrite=args.overwrite)
    except (FileExistsError, ValueError) as exc:
        raise CommandError(str(exc)) from None

    tty = sys.stdout.isatty()

    def progress(done: int, total: int) -> None:
        if done == total or done % max(1, total // (50 if tty else 10)) == 0:
            end = "\n" if done == total or not tty else ""
            print(f"\rsynthetic images {done}/{total}", end=end, flush=True)

    if args.synthetic:
        add_synthetic(
            writer,
            sample_image,
            args.synthetic,
            args.size,
            seed=args.seed,
            val_fraction=args.val_fraction,
            progress=progress,
        )
    if args.evidence:
        add_reviewed(writer, args.evidence, val_fraction=args.val_fraction)
    data = writer.finish()
    s = writer.summary
    print(
        f"{data}: {s.images['train']} train + {s.images['val']} val images; "
        f"synthetic {s.synthetic}, confirmed {s.confirmed}, dismissed (hard negatives) "
        f"{s.dismissed}, unreviewed skipped {s.unreviewed}"
    )
    print("boxes: " + ", ".join(f"{k} {v}" for k, v in s.boxes.items()))
    for problem in s.problems:
        print(f"skipped: {problem}", file=sys.stderr)
    return 0


def run_train(args: argparse.Namespace) -> int:
    from detector.training.train import TrainSettings, export_onnx, train

    try:
        settings = TrainSettings(
            data=args.data,
            model=args.model,
            epochs=args.epochs,
            imgsz=args.imgsz,
            batch=args.batch,
            threads=args.threads,
            workers=args.workers,
            out_dir=args.out,
            name=args.name,
            patience=args.patience,
            close_mosaic=args.close_mosaic,
            freeze=args.freeze,
            fraction=args.fraction,
            hours=args.hours,
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    best = train(settings)
    print(f"best weights: {best}")
    if args.export:
        print(f"onnx: {export_onnx(best, args.export, imgsz=args.imgsz)}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    from detector.training.train import export_onnx

    print(export_onnx(args.weights, args.out, imgsz=args.imgsz, nms=args.nms))
    return 0

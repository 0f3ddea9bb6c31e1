"""Training runs offline: a one-epoch run on a tiny generated dataset, then ONNX export."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from detector.backends import load_backend
from detector.settings import DEFAULT_STRUCTURE_CLASSES
from detector.structure import default_structure_model
from detector.training.train import TrainSettings, evaluate

ROOT = Path(__file__).resolve().parents[2]


def _offline_env(tmp_path: Path) -> dict[str, str]:
    """A fresh ultralytics config dir and a dead proxy: any download attempt would fail."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOLO_")}
    env.update(
        YOLO_CONFIG_DIR=str(tmp_path / "cfg"),
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
    )
    return env


def _sitewatch(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(
        [sys.executable, "-m", "sitewatch", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, f"sitewatch {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}"
    return out


@pytest.mark.slow
def test_one_epoch_on_a_tiny_synthetic_dataset_runs_offline_and_exports(tmp_path: Path) -> None:
    env = _offline_env(tmp_path)
    built = _sitewatch(
        ["dataset", "build", "ds", "--synthetic", "8", "--size", "96", "--val-fraction", "0.25"],
        env,
        tmp_path,
    )
    assert "6 train + 2 val images" in built.stdout
    labels = sorted((tmp_path / "ds" / "labels" / "train").glob("*.txt"))
    assert len(labels) == 6
    rows = [line.split() for f in labels for line in f.read_text().splitlines()]
    assert rows, "eight synthetic scenes without a single structure"
    assert all(0 <= int(r[0]) < 5 and all(0 < float(v) <= 1 for v in r[1:]) for r in rows)

    trained = _sitewatch(
        ["train", "ds/data.yaml", "--epochs", "1", "--imgsz", "64", "--batch", "4",
         "--workers", "0", "--threads", "1", "--out", "runs", "--name", "tiny",
         "--export", "tiny.onnx"],
        env,
        tmp_path,
    )  # fmt: skip
    log = trained.stdout + trained.stderr
    assert "1/1" in log  # the epoch progress line
    assert (tmp_path / "cfg" / "Ultralytics" / "Arial.ttf").is_file()
    best = tmp_path / "runs" / "tiny" / "weights" / "best.pt"
    assert best.is_file()
    scores = evaluate(best, tmp_path / "ds" / "data.yaml", imgsz=64, threads=1)
    assert set(scores) == {"map50", "map50_95", "precision", "recall"}
    assert all(0.0 <= v <= 1.0 for v in scores.values())
    backend = load_backend(tmp_path / "tiny.onnx", threads=1)
    assert list(backend.names.values()) == list(DEFAULT_STRUCTURE_CLASSES)
    image = cv2.imread(str(next((tmp_path / "ds" / "images" / "val").glob("*.jpg"))))
    found = backend.predict(image, conf=0.001)
    assert set(found.class_name) <= set(DEFAULT_STRUCTURE_CLASSES)


@pytest.mark.slow
def test_fine_tuning_the_shipped_weights_on_reviewed_folders(tmp_path: Path) -> None:
    """The district's path: reviewed evidence → dataset → one epoch from the shipped .pt."""
    weights = default_structure_model().with_suffix(".pt")
    if not weights.is_file():
        pytest.skip(f"shipped weights not found: {weights}")
    rng = np.random.default_rng(3)
    for i, decision in enumerate(["confirmed", "confirmed", "dismissed", "confirmed"]):
        folder = tmp_path / "evidence" / "cam7" / f"20261126T0{i}0000-z1-{i:08d}"
        folder.mkdir(parents=True)
        frame = rng.integers(60, 200, (96, 128, 3), dtype=np.uint8)
        cv2.rectangle(frame, (30, 30), (90, 80), (40, 40, 180), -1)
        cv2.imwrite(str(folder / "frame.jpg"), frame)
        (folder / "detection.json").write_text(
            '{"bbox": [30, 30, 90, 80], "frame_size": [128, 96], "camera": "cam7"}'
        )
        review = '{"decision": "dismissed"}'
        if decision == "confirmed":
            review = '{"decision": "confirmed", "label": "steel_roof_shed"}'
        (folder / "review.json").write_text(review)
    env = _offline_env(tmp_path)
    _sitewatch(
        ["dataset", "build", "ds", "--evidence", "evidence", "--val-fraction", "0.3"], env, tmp_path
    )
    data = yaml.safe_load((tmp_path / "ds" / "data.yaml").read_text())
    assert list(data["names"].values()) == list(DEFAULT_STRUCTURE_CLASSES)
    _sitewatch(
        ["train", "ds/data.yaml", "--model", str(weights), "--epochs", "1", "--imgsz", "64",
         "--batch", "2", "--workers", "0", "--threads", "1", "--out", "runs", "--name", "ft"],
        env,
        tmp_path,
    )  # fmt: skip
    tuned = tmp_path / "runs" / "ft" / "weights" / "best.pt"
    assert tuned.is_file()
    # one short epoch moves every layer only a little: fine-tuning starts from the shipped
    # weights (without them ultralytics re-initialises part of the network)
    assert _least_similar_layer(weights, tuned) > 0.95


def _least_similar_layer(a: Path, b: Path) -> float:
    """The lowest cosine similarity between the two checkpoints' convolution kernels."""
    import torch

    def kernels(path: Path) -> dict[str, torch.Tensor]:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
        state = (ckpt.get("ema") or ckpt["model"]).float().state_dict()
        return {k: v.flatten() for k, v in state.items() if v.ndim == 4}

    ka, kb = kernels(a), kernels(b)
    assert ka.keys() == kb.keys() and len(ka) > 50
    cos = torch.nn.functional.cosine_similarity
    return min(float(cos(ka[k], kb[k], dim=0)) for k in ka)


def test_train_settings_for_a_cpu_fine_tune_are_checked(tmp_path: Path) -> None:
    data = tmp_path / "data.yaml"
    data.write_text("path: .\n", encoding="utf-8")
    ok = TrainSettings(data, freeze=10, fraction=0.5, hours=0.5)
    assert (ok.freeze, ok.fraction, ok.hours) == (10, 0.5, 0.5)
    for bad, match in (
        ({"fraction": 0.0}, "fraction"),
        ({"fraction": 1.5}, "fraction"),
        ({"hours": 0.0}, "hours"),
        ({"freeze": 101}, "freeze"),
    ):
        with pytest.raises(ValueError, match=match):
            TrainSettings(data, **bad)
    out = subprocess.run(
        [sys.executable, "-m", "sitewatch", "train", str(data), "--fraction", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and "--fraction" in out.stderr and "(0, 1]" in out.stderr

"""``sitewatch dataset build`` from reviewed evidence folders: label files and data.yaml."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from detector.training.dataset import DatasetWriter, label_lines, split_of
from detector.training.evidence import read_reviewed
from sitewatch.cli import main

CLASSES = ["steel_roof_shed", "building_extension", "scaffolding"]


def _folder(
    root: Path,
    name: str,
    *,
    bbox: list[float],
    review: dict[str, object] | None,
    size: tuple[int, int] = (640, 360),
    frame_size: tuple[int, int] | None = None,
) -> Path:
    """An evidence folder as the detector writes it (docs/evidence.md)."""
    folder = root / "cam1" / name
    folder.mkdir(parents=True)
    rng = np.random.default_rng(len(name))
    frame = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    assert cv2.imwrite(str(folder / "frame.jpg"), frame)
    detection = {
        "event": "confirmed",
        "camera": "cam1",
        "zone": "z1",
        "unit": "u1",
        "bbox": bbox,
        "first_seen_s": 10.0,
        "confirmed_s": 7210.0,
        "score": 0.7,
        "label": "change",
        "frame_size": list(frame_size or size),
        "id": name[-8:],
    }
    (folder / "detection.json").write_text(json.dumps(detection), encoding="utf-8")
    if review is not None:
        (folder / "review.json").write_text(json.dumps(review, ensure_ascii=False), "utf-8")
    return folder


@pytest.fixture()
def evidence(tmp_path: Path) -> Path:
    root = tmp_path / "evidence"
    _folder(
        root,
        "20261126T093000-z1-aaaa0001",
        bbox=[64, 36, 320, 216],
        review={
            "decision": "confirmed",
            "label": "steel_roof_shed",
            "reviewer": "张三",
            "reviewed_at": "2026-11-26T09:30:00+08:00",
        },
    )
    _folder(
        root,
        "20261126T100000-z1-aaaa0002",
        bbox=[10, 10, 100, 100],
        review={"decision": "dismissed", "reason": "shadow of a parked truck"},
    )
    _folder(root, "20261126T110000-z2-aaaa0003", bbox=[0, 0, 50, 50], review=None)
    _folder(
        root,
        "20261126T120000-z2-aaaa0004",
        bbox=[0, 0, 50, 50],
        review={
            "decision": "confirmed",
            "label": "scaffolding",
            "boxes": [[320, 180, 640, 360, "scaffolding"], [0, 0, 64, 72, "steel_roof_shed"]],
        },
    )
    # detector saw a 1280×720 stream; frame.jpg was stored at 640×360
    _folder(
        root,
        "20261126T130000-z2-aaaa0005",
        bbox=[128, 72, 640, 432],
        frame_size=(1280, 720),
        review={"decision": "confirmed", "label": "building_extension"},
    )
    _folder(
        root,
        "20261126T140000-z2-aaaa0006",
        bbox=[0, 0, 50, 50],
        review={"decision": "confirmed", "label": "pigsty"},
    )
    return root


def _labels(out: Path, stem: str) -> list[list[float]]:
    files = list(out.glob(f"labels/*/{stem}.txt"))
    assert len(files) == 1, f"expected one label file for {stem}, found {files}"
    return [[float(v) for v in line.split()] for line in files[0].read_text().splitlines()]


def test_reviewed_folders_become_correct_label_files(
    evidence: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ds"
    argv = [
        "dataset",
        "build",
        str(out),
        "--evidence",
        str(evidence),
        "--classes",
        ",".join(CLASSES),
        "--val-fraction",
        "0.5",
    ]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "confirmed 3, dismissed (hard negatives) 1, unreviewed skipped 1" in captured.out
    assert "aaaa0006" in captured.err and "pigsty" in captured.err

    np.testing.assert_allclose(
        _labels(out, "ev_cam1_20261126T093000-z1-aaaa0001"), [[0, 0.3, 0.35, 0.4, 0.5]], atol=1e-6
    )
    assert _labels(out, "ev_cam1_20261126T100000-z1-aaaa0002") == []  # hard negative
    np.testing.assert_allclose(
        _labels(out, "ev_cam1_20261126T120000-z2-aaaa0004"),
        [[2, 0.75, 0.75, 0.5, 0.5], [0, 0.05, 0.1, 0.1, 0.2]],
        atol=1e-6,
    )
    np.testing.assert_allclose(
        _labels(out, "ev_cam1_20261126T130000-z2-aaaa0005"), [[1, 0.3, 0.35, 0.4, 0.5]], atol=1e-6
    )
    assert not list(out.glob("labels/*/*aaaa0003*")) and not list(out.glob("labels/*/*aaaa0006*"))
    for label in out.glob("labels/*/*.txt"):  # every label has its image, copied unchanged
        split, stem = label.parent.name, label.stem
        image = out / "images" / split / f"{stem}.jpg"
        folder = evidence / "cam1" / stem.removeprefix("ev_cam1_")
        assert image.read_bytes() == (folder / "frame.jpg").read_bytes()

    data = yaml.safe_load((out / "data.yaml").read_text())
    assert data["names"] == dict(enumerate(CLASSES))
    assert Path(data["path"]) == out.resolve()
    assert (out / data["train"]).is_dir() and (out / data["val"]).is_dir()
    summary = json.loads((out / "dataset.json").read_text())
    assert summary["boxes"] == {"steel_roof_shed": 2, "building_extension": 1, "scaffolding": 1}


def test_split_is_stable_per_folder() -> None:
    keys = [f"cam{i}_folder{i}" for i in range(200)]
    first = [split_of(k, 0.25) for k in keys]
    assert first == [split_of(k, 0.25) for k in keys]
    assert 25 <= first.count("val") <= 75
    assert all(split_of(k, 0.0) == "train" for k in keys)


def test_label_lines_clip_to_the_image_and_drop_empty_boxes() -> None:
    boxes = [("b", (-20.0, 10.0, 60.0, 50.0)), ("a", (200.0, 0.0, 260.0, 40.0))]
    assert label_lines(boxes, ["a", "b"], 200, 100) == ["1 0.150000 0.300000 0.300000 0.400000"]


def test_bad_reviews_say_what_is_wrong(evidence: Path) -> None:
    folder = evidence / "cam1" / "20261126T100000-z1-aaaa0002"
    (folder / "review.json").write_text('{"decision": "maybe"}')
    with pytest.raises(ValueError, match=r"decision must be confirmed or dismissed, got 'maybe'"):
        read_reviewed(folder, CLASSES)
    (folder / "review.json").write_text('{"decision": "confirmed"}')
    with pytest.raises(ValueError, match=r"a confirmed review needs a label"):
        read_reviewed(folder, CLASSES)
    (folder / "frame.jpg").unlink()
    with pytest.raises(ValueError, match=r"frame\.jpg is missing"):
        read_reviewed(folder, CLASSES)


def test_writer_refuses_a_non_empty_folder_and_bad_classes(tmp_path: Path) -> None:
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        DatasetWriter(tmp_path / "ds", CLASSES)
    with pytest.raises(ValueError, match=r"classes: names must be unique"):
        DatasetWriter(tmp_path / "other", ["a", "a"])

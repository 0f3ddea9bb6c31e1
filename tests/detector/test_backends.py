"""onnxruntime backend: YOLOX on a real street photo, loader errors, pre/post-processing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from detector.backends import ModelLoadError, load_backend
from detector.backends.common import COCO80, batched_nms, letterbox, nms
from detector.backends.onnx import OnnxBackend, anchor_count
from sitewatch.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def yolox_path(shared_data: Path) -> Path:
    path = shared_data / "models" / "yolox_nano_coco_416.onnx"
    if not path.is_file():
        pytest.skip(f"YOLOX model not found at {path}")
    return path


@pytest.fixture(scope="module")
def street(shared_data: Path) -> np.ndarray:
    image = cv2.imread(str(shared_data / "images" / "street.jpg"))
    if image is None:
        pytest.skip("street.jpg not found in ../shared/data/images")
    return image


@pytest.fixture(scope="module")
def yolox(yolox_path: Path) -> OnnxBackend:
    backend = load_backend(yolox_path, threads=1)
    assert isinstance(backend, OnnxBackend)
    return backend


def _count(labels: tuple[str, ...], name: str) -> int:
    return sum(1 for label in labels if label == name)


def test_yolox_is_recognised_from_its_output_shape(yolox: OnnxBackend) -> None:
    assert yolox.layout.layout == "yolox"
    assert yolox.imgsz == (416, 416)
    assert yolox.layout.num_classes == 80
    assert yolox.names[0] == "person" and yolox.names[2] == "car"


def test_yolox_finds_people_bicycle_and_cars_in_street(
    yolox: OnnxBackend, street: np.ndarray
) -> None:
    found = yolox.predict(street, conf=0.4)
    assert _count(found.class_name, "person") >= 4
    assert _count(found.class_name, "bicycle") >= 1
    assert _count(found.class_name, "car") >= 2
    h, w = street.shape[:2]
    assert (found.xyxy[:, [0, 2]] <= w).all() and (found.xyxy[:, [1, 3]] <= h).all()
    assert (found.xyxy[:, 2] > found.xyxy[:, 0]).all() and (
        found.xyxy[:, 3] > found.xyxy[:, 1]
    ).all()
    # the bicycle stands in the lower right half of the photo, under a rider
    bike = found.xyxy[list(found.class_name).index("bicycle")]
    assert (bike[0] + bike[2]) / 2 > w / 2 and (bike[1] + bike[3]) / 2 > h / 2
    assert (found.confidence >= 0.4).all()


def test_boxes_are_mapped_back_to_source_pixels(yolox: OnnxBackend, street: np.ndarray) -> None:
    """The model sees the same input for a half-size copy; boxes come back at half scale."""
    full = yolox.predict(street, conf=0.5)
    half = yolox.predict(cv2.resize(street, (street.shape[1] // 2, street.shape[0] // 2)), conf=0.5)
    assert sorted(half.class_name) == sorted(full.class_name)
    for box, name in zip(full.xyxy, full.class_name, strict=True):
        same = half.xyxy[[i for i, n in enumerate(half.class_name) if n == name]] * 2
        assert np.abs(same - box).max(axis=1).min() < 12.0, f"{name} at {box} moved"


def test_onnx_backend_never_imports_torch(yolox_path: Path, shared_data: Path) -> None:
    code = (
        "import sys, cv2\n"
        "from detector.backends import load_backend\n"
        f"b = load_backend({str(yolox_path)!r}, threads=2)\n"
        f"d = b.predict(cv2.imread({str(shared_data / 'images' / 'street.jpg')!r}))\n"
        "assert len(d) > 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'ultralytics')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_threads_are_set_on_the_session(yolox_path: Path) -> None:
    backend = load_backend(yolox_path, threads=2)
    assert isinstance(backend, OnnxBackend)
    options = backend.session.get_session_options()
    assert options.intra_op_num_threads == 2
    assert options.inter_op_num_threads == 1


def test_given_names_replace_the_default_ones(yolox_path: Path, street: np.ndarray) -> None:
    names = [f"c{i}" for i in range(80)]
    backend = load_backend(yolox_path, names=names)
    assert set(backend.predict(street, conf=0.5).class_name) <= {"c0", "c1", "c2", "c3", "c24"}
    with pytest.raises(ModelLoadError, match=r"yolox_nano_coco_416\.onnx.*80 classes.*2 names"):
        load_backend(yolox_path, names=["a", "b"])


def test_detect_cli_prints_class_score_and_box(
    yolox_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = shared_data / "images" / "street.jpg"
    assert main(["detect", str(image), "--model", str(yolox_path), "--json", "--conf", "0.4"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    labels = [r["label"] for r in rows]
    assert labels.count("person") >= 4 and "bicycle" in labels and labels.count("car") >= 2
    assert all(len(r["bbox"]) == 4 and 0.4 <= r["score"] <= 1 for r in rows)
    assert main(["detect", str(image), "--model", str(yolox_path)]) == 0
    text = capsys.readouterr().out
    assert "bicycle" in text and "detections (yolox_nano_coco_416.onnx)" in text


def test_detect_cli_reports_a_bad_model(tmp_path: Path, shared_data: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"not a model at all")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "sitewatch",
            "detect",
            str(shared_data / "images" / "street.jpg"),
            "--model",
            str(bad),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2
    assert "broken.onnx" in out.stderr and "not a loadable ONNX model" in out.stderr


def _identity_onnx(path: Path) -> Path:
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])
    y = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 3, 64, 64])
    graph = helper.make_graph([helper.make_node("Identity", ["images"], ["out"])], "g", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    return path


def test_wrong_missing_or_corrupt_files_name_the_file_and_reason(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"nothere\.onnx: model file not found"):
        load_backend(tmp_path / "nothere.onnx")
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(ModelLoadError, match=r"empty\.onnx: model file is empty"):
        load_backend(tmp_path / "empty.onnx")
    (tmp_path / "junk.onnx").write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(ModelLoadError, match=r"junk\.onnx: not a loadable ONNX model"):
        load_backend(tmp_path / "junk.onnx")
    (tmp_path / "model.txt").write_text("hello")
    with pytest.raises(ModelLoadError, match=r"model\.txt: unknown model format '\.txt'"):
        load_backend(tmp_path / "model.txt")
    with pytest.raises(ModelLoadError, match=r"identity\.onnx: output shape \[1, 3, 64, 64\]"):
        load_backend(_identity_onnx(tmp_path / "identity.onnx"))
    (tmp_path / "empty_openvino_model").mkdir()
    with pytest.raises(ModelLoadError, match=r"empty_openvino_model: model folder is empty"):
        load_backend(tmp_path / "empty_openvino_model")
    with pytest.raises(ValueError, match=r"threads: expected 1\.\.64, got 0"):
        load_backend(tmp_path / "model.txt", threads=0)


def test_predict_rejects_bad_input(yolox: OnnxBackend) -> None:
    with pytest.raises(ValueError, match=r"image: expected a BGR array"):
        yolox.predict(np.zeros((32, 32), np.uint8))
    with pytest.raises(ValueError, match=r"image: expected dtype uint8"):
        yolox.predict(np.zeros((32, 32, 3), np.float32))
    with pytest.raises(ValueError, match=r"conf: expected a score in 0\.\.1, got 1\.5"):
        yolox.predict(np.zeros((32, 32, 3), np.uint8), conf=1.5)
    assert len(yolox.predict(np.full((48, 64, 3), 114, np.uint8))) == 0


def test_letterbox_top_left_and_centred() -> None:
    image = np.full((100, 200, 3), 7, np.uint8)
    canvas, box = letterbox(image, 320, 320, center=False)
    assert box.scale == pytest.approx(1.6) and (box.pad_x, box.pad_y) == (0, 0)
    assert (canvas[:160] == 7).all() and (canvas[160:] == 114).all()
    canvas, box = letterbox(image, 320, 320, center=True)
    assert (box.pad_x, box.pad_y) == (0, 80)
    assert (
        (canvas[80:240] == 7).all() and (canvas[:80] == 114).all() and (canvas[240:] == 114).all()
    )
    back = box.to_source(np.array([[0, 80, 320, 240]], np.float32), 200, 100)
    np.testing.assert_allclose(back, [[0, 0, 200, 100]], atol=1e-4)


def test_nms_keeps_the_best_of_overlapping_boxes_per_class() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10]], np.float32)
    scores = np.array([0.9, 0.8, 0.7, 0.6], np.float32)
    assert nms(boxes, scores, 0.5).tolist() == [0, 2]
    classes = np.array([0, 0, 0, 1])
    assert sorted(batched_nms(boxes, scores, classes, 0.5).tolist()) == [0, 2, 3]


def test_anchor_count_matches_the_yolox_output() -> None:
    assert anchor_count(416, 416) == 3549 and anchor_count(320, 320) == 2100
    assert len(COCO80) == 80


def test_a_corrupt_pt_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(b"PK\x03\x04" + bytes(200))
    with pytest.raises(ModelLoadError, match=r"truncated\.pt: ultralytics could not load it"):
        load_backend(bad)

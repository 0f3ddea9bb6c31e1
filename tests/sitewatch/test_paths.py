"""Ids never write outside their folder: the config refuses them, and the writers check again."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from detector.events import Event
from detector.evidence import EvidenceWriter
from detector.pipeline import CameraPipeline
from detector.settings import DetectorSettings
from geofence import Zone, ZoneSet
from streams.paths import UnsafePathError, inside_root, is_safe_id

UNSAFE = [".", "..", "../x", "a/b", "/etc", "a\\b", "", "x\x00y"]


@pytest.mark.parametrize("name", UNSAFE)
def test_inside_root_refuses_names_that_leave_it(name: str, tmp_path: Path) -> None:
    with pytest.raises(UnsafePathError):
        inside_root(tmp_path, name)
    assert not is_safe_id(name)


def test_inside_root_follows_symlinks(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "cam").symlink_to(outside)
    with pytest.raises(UnsafePathError, match="outside"):
        inside_root(root, "cam", "file.jpg")
    assert inside_root(root, "cam-2", "2026-zone-1") == root / "cam-2" / "2026-zone-1"


@pytest.mark.parametrize("ok", ["cam-1", "zone_a", "A1", "x" * 64])
def test_safe_ids(ok: str) -> None:
    assert is_safe_id(ok)
    assert not is_safe_id(ok + ".")


def _zones() -> ZoneSet:
    zone = Zone("yard", "南屿镇/旗山村", [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
    return ZoneSet([zone], [], 64, 48)


def _event(zone: str) -> Event:
    return Event(
        event="confirmed",
        camera="cam1",
        zone=zone,
        unit="南屿镇/旗山村",
        bbox=(1.0, 1.0, 9.0, 9.0),
        score=0.9,
        label="steel_roof_shed",
        first_seen_s=0.0,
        confirmed_s=10.0,
        gone_s=None,
        frame_size=(64, 48),
        id="0123456789abcdef",
    )


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("camera", ["..", "../evil", "a/b", "."])
def test_evidence_writer_refuses_a_camera_outside_its_root(camera: str, tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    with pytest.raises(UnsafePathError):
        EvidenceWriter(root, camera)
    assert _files(tmp_path) == []


@pytest.mark.parametrize("zone", ["../../escape", "a/b", "../x"])
def test_evidence_writer_refuses_an_event_that_names_a_path(zone: str, tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    writer = EvidenceWriter(root, "cam1")
    image = np.zeros((48, 64, 3), np.uint8)
    with pytest.raises(UnsafePathError):
        writer.write(_event(zone), image, image, _zones(), wall=0.0, pts=0.0)
    assert _files(tmp_path) == []


def test_evidence_writer_refuses_a_camera_folder_linked_outside(tmp_path: Path) -> None:
    root, outside = tmp_path / "evidence", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    writer = EvidenceWriter(root, "cam1")
    os.symlink(outside, root / "cam1")  # made after the writer checked its camera folder
    with pytest.raises(UnsafePathError):
        EvidenceWriter(root, "cam1")
    image = np.zeros((48, 64, 3), np.uint8)
    with pytest.raises(UnsafePathError):
        writer.write(_event("yard"), image, image, _zones(), wall=0.0, pts=0.0)
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("camera", ["..", "../evil", "a/b"])
def test_reference_folder_refuses_a_camera_outside_its_root(camera: str, tmp_path: Path) -> None:
    zone = Zone("yard", "南屿镇/旗山村", [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])
    with pytest.raises(UnsafePathError):
        CameraPipeline(camera, [zone], DetectorSettings(), reference_dir=tmp_path / "refs")
    with pytest.raises(UnsafePathError):
        CameraPipeline(camera, [zone], DetectorSettings(), evidence_dir=tmp_path / "ev")
    assert _files(tmp_path) == []


def test_the_config_refuses_unsafe_ids(tmp_path: Path) -> None:
    from sitewatch.config import ConfigError, load_site

    for where, text in {
        "camera": "cameras:\n  - id: '..'\n    url: rtsp://h/1\n",
        "zone": "cameras:\n  - id: c\n    url: rtsp://h/1\n    zones:\n"
        "      - {id: ../z, unit: a, polygon: [[0, 0], [1, 0], [1, 1]]}\n",
        "mask": "cameras:\n  - id: c\n    url: rtsp://h/1\n    masks:\n"
        "      - {id: a/b, polygon: [[0, 0], [1, 0], [1, 1]]}\n",
    }.items():
        path = tmp_path / f"{where}.yaml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            load_site(path)
        (problem,) = info.value.problems
        assert problem.path.endswith(".id") and "not allowed" in problem.reason, problem

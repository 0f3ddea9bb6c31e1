"""``sitewatch zones preview`` and ``sitewatch zones geojson`` end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from geofence.preview import colour_of
from sitewatch.cli import main

CONFIG = """\
units:
  district: 闽侯县
  towns:
    南屿镇: [旗山村, 柳浪社区]
cameras:
  - id: cam1
    url: {url}
    resolution: [320, 240]
    zones:
      - id: yard
        unit: 南屿镇/旗山村
        polygon: [[0.25, 0.5], [0.75, 0.5], [0.75, 0.9], [0.25, 0.9]]
    masks:
      - {{id: road, polygon: [[0.0, 0.0], [0.2, 0.0], [0.2, 0.2], [0.0, 0.2]]}}
    ground:
      points:
        - {{pixel: [0, 240], lonlat: [119.20000, 26.03000]}}
        - {{pixel: [320, 240], lonlat: [119.20020, 26.03000]}}
        - {{pixel: [260, 100], lonlat: [119.20020, 26.03040]}}
        - {{pixel: [60, 100], lonlat: [119.20000, 26.03040]}}
"""


def write_config(tmp_path: Path, url: str = "rtsp://127.0.0.1:9/none") -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(CONFIG.format(url=url)), encoding="utf-8")
    return path


def outline_share(img: np.ndarray, y: int, x1: int, x2: int) -> float:
    row = img[y - 1 : y + 2, x1:x2].astype(int)
    near = (np.abs(row - colour_of(0)).max(axis=2) <= 30).any(axis=0)
    return float(near.mean())


def test_preview_over_an_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = tmp_path / "frame.png"
    cv2.imwrite(str(image), np.full((240, 320, 3), 70, np.uint8))
    out = tmp_path / "out.png"
    rc = main(
        ["zones", "preview", "--config", str(write_config(tmp_path)), "--camera", "cam1"]
        + ["--image", str(image), "-o", str(out), "--box", "100,150,200,200", "--box", "0,0,5,5"]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "box 100,150,200,200: zone yard" in printed
    assert "box 0,0,5,5: zone (none)" in printed
    img = cv2.imread(str(out))
    assert img.shape == (240, 320, 3)
    assert outline_share(img, 216, 90, 230) > 0.9  # bottom edge of the yard at y = 0.9 * 240
    assert outline_share(img, 200, 90, 230) == 0


def test_preview_takes_a_frame_from_the_camera(tmp_path: Path) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    video = tmp_path / "cam.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=0x464646:s=320x240:d=1:r=5"]
        + ["-c:v", "libx264", "-pix_fmt", "yuv420p", str(video)],
        check=True,
    )
    out = tmp_path / "out.jpg"
    config = write_config(tmp_path, url="cam.mp4")  # relative to the config file
    rc = main(["zones", "preview", "--config", str(config), "--camera", "cam1", "-o", str(out)])
    assert rc == 0
    img = cv2.imread(str(out))
    assert img.shape == (240, 320, 3)
    assert np.abs(img[5:60, 120:300].astype(int) - 0x46).max() <= 6  # the video's own pixels
    assert outline_share(img, 216, 90, 230) > 0.9


def test_preview_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(tmp_path)
    rc = main(["zones", "preview", "--config", str(config), "--camera", "nope"])
    assert rc == 2 and "no camera 'nope'" in capsys.readouterr().err
    rc = main(["zones", "preview", "--config", str(config), "--camera", "cam1", "--image", "x.png"])
    assert rc == 2 and "--image: file not found: x.png" in capsys.readouterr().err
    not_image = ["--camera", "cam1", "--image", str(config)]
    rc = main(["zones", "preview", "--config", str(config), *not_image])
    assert rc == 1 and f"cannot read image {config}" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text(config.read_text().replace("南屿镇/旗山村", "南屿镇/旗山"), encoding="utf-8")
    rc = main(["zones", "preview", "--config", str(bad), *not_image])
    err = capsys.readouterr().err
    assert rc == 2 and f"{bad}:11: cameras[0].zones[0].unit" in err


def test_geojson_command(tmp_path: Path) -> None:
    out = tmp_path / "zones.geojson"
    rc = main(["zones", "geojson", "--config", str(write_config(tmp_path)), "-o", str(out)])
    assert rc == 0
    doc = json.loads(out.read_text(encoding="utf-8"))
    (feature,) = doc["features"]
    assert feature["properties"]["unit"] == "南屿镇/旗山村"
    assert feature["properties"]["camera"] == "cam1"
    lons = [p[0] for p in feature["geometry"]["coordinates"][0]]
    lats = [p[1] for p in feature["geometry"]["coordinates"][0]]
    assert 119.2 < min(lons) < max(lons) < 119.2002
    assert 26.03 < min(lats) < max(lats) < 26.0304


def test_preview_gives_up_on_a_dead_camera(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)  # rtsp://127.0.0.1:9: nothing listens there
    started = time.monotonic()
    rc = main(["zones", "preview", "--config", str(config), "--camera", "cam1", "--timeout", "20s"])
    err = capsys.readouterr().err
    assert rc == 1  # a runtime failure, and a refused connection fails at once
    assert time.monotonic() - started < 5
    assert err.startswith("sitewatch zones preview: camera 'cam1': cannot connect to 127.0.0.1:9")
    assert "connection refused; use --image IMG" in err

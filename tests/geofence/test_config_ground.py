"""Errors in a camera's ``ground:`` control points name file, line and point."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.geofence.test_config_errors import CAMERA, marked_line, problems_of

CASES: dict[str, tuple[str, list[str]]] = {
    "ground without resolution": (
        """\
cameras:
  - id: cam1
    url: rtsp://127.0.0.1:8554/cam1
    ground:                                #!
      points:
        - {pixel: [0, 480], metres: [0, 0]}
        - {pixel: [640, 480], metres: [20, 0]}
        - {pixel: [500, 200], metres: [20, 40]}
        - {pixel: [140, 200], metres: [0, 40]}
""",
        ["ground", "add resolution"],
    ),
    "ground with three points": (
        CAMERA
        + """\
    ground:
      points:                              #!
        - {pixel: [0, 480], metres: [0, 0]}
        - {pixel: [640, 480], metres: [20, 0]}
        - {pixel: [500, 200], metres: [20, 40]}
""",
        ["ground.points", "at least 4 items"],
    ),
    "ground point with both ends": (
        CAMERA
        + """\
    ground:
      points:
        - {pixel: [0, 480], metres: [0, 0], lonlat: [119.2, 26.0]}   #!
        - {pixel: [640, 480], metres: [20, 0]}
        - {pixel: [500, 200], metres: [20, 40]}
        - {pixel: [140, 200], metres: [0, 40]}
""",
        ["ground.points[0]", "exactly one of lonlat"],
    ),
    "ground mixes lonlat and metres": (
        CAMERA
        + """\
    ground:
      points:
        - {pixel: [0, 480], metres: [0, 0]}
        - {pixel: [640, 480], metres: [20, 0]}
        - {pixel: [500, 200], lonlat: [119.2, 26.0]}   #!
        - {pixel: [140, 200], metres: [0, 40]}
""",
        ["ground.points[2]", "mix of lonlat and metres"],
    ),
    "ground point outside the frame": (
        CAMERA
        + """\
    ground:
      points:
        - {pixel: [0, 480], metres: [0, 0]}
        - {pixel: [700, 480], metres: [20, 0]}   #!
        - {pixel: [500, 200], metres: [20, 40]}
        - {pixel: [140, 200], metres: [0, 40]}
""",
        ["ground.points[1].pixel", "(700, 480)", "640x480"],
    ),
    "ground points on one line": (
        CAMERA
        + """\
    ground:
      points:                              #!
        - {pixel: [0, 480], metres: [0, 0]}
        - {pixel: [640, 480], metres: [20, 0]}
        - {pixel: [320, 480], metres: [20, 40]}
        - {pixel: [140, 200], metres: [0, 40]}
""",
        ["ground", "points 0, 1 and 2 lie on one line (in the image)"],
    ),
    "ground point that misses the fit": (
        CAMERA
        + """\
    ground:
      points:
        - {pixel: [0, 480], metres: [0, 0]}
        - {pixel: [640, 480], metres: [20, 0]}
        - {pixel: [500, 200], metres: [20, 40]}
        - {pixel: [140, 200], metres: [0, 40]}
        - {pixel: [320, 480], metres: [10, 0]}
        - {pixel: [320, 300], metres: [30, 5]}   #!
""",
        ["ground.points[5]", "from where the other points put it", "max_error_m 2"],
    ),
    "five ground points that do not fit": (
        CAMERA
        + """\
    ground:
      points:                              #!
        - {pixel: [0, 480], metres: [0, 0]}
        - {pixel: [640, 480], metres: [20, 0]}
        - {pixel: [500, 200], metres: [20, 40]}
        - {pixel: [140, 200], metres: [0, 40]}
        - {pixel: [320, 300], metres: [30, 5]}
""",
        ["ground.points", "do not fit one plane", "add points"],
    ),
    "origin with lonlat points": (
        CAMERA
        + """\
    ground:
      origin: [119.2, 26.0]                #!
      points:
        - {pixel: [0, 480], lonlat: [119.2000, 26.0000]}
        - {pixel: [640, 480], lonlat: [119.2002, 26.0000]}
        - {pixel: [500, 200], lonlat: [119.2002, 26.0004]}
        - {pixel: [140, 200], lonlat: [119.2000, 26.0004]}
""",
        ["ground.origin", "only for metres"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ground_error_names_file_line_and_point(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    problems = problems_of(tmp_path, text)
    line = marked_line(text)
    hits = [p for p in problems if p.startswith(f"{tmp_path / 'site.yaml'}:{line}: ")]
    assert hits, f"no problem at line {line}: {problems}"
    for part in expected:
        assert any(part in p for p in hits), f"{part!r} not in {hits}"

"""Every zone, mask, unit and ground-point error in the site YAML names file, line and zone.

Each case is a small YAML file; the line the error must point at carries ``#!``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sitewatch.config import ConfigError, load_site
from sitewatch.config.zones import camera_zones, ground_map_for, zoneset_for

UNITS = """\
units:
  district: 闽侯县
  towns:
    南屿镇: [旗山村, 南井村, 柳浪社区]
    上街镇: [榕桥村, 新村]
    祥谦镇: [新村]
"""

CAMERA = """\
cameras:
  - id: cam1
    url: rtsp://127.0.0.1:8554/cam1
    resolution: [640, 480]
"""

GOOD_ZONE = """\
    zones:
      - id: yard
        unit: 南屿镇/旗山村
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def marked_line(text: str) -> int:
    lines = [i + 1 for i, line in enumerate(textwrap.dedent(text).splitlines()) if "#!" in line]
    assert len(lines) == 1, "each case marks exactly one line with #!"
    return lines[0]


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_site(path)
    return [str(p) for p in info.value.problems]


CASES: dict[str, tuple[str, list[str]]] = {
    "too few points": (
        CAMERA
        + """\
    zones:
      - id: strip
        unit: 南屿镇/旗山村
        polygon: [[0.1, 0.1], [0.9, 0.1]]   #!
""",
        ["zone 'strip'", "at least 3 points, got 2"],
    ),
    "self-intersecting": (
        CAMERA
        + """\
    zones:
      - id: bowtie
        unit: 南屿镇/旗山村
        polygon:                           #!
          - [0.1, 0.1]
          - [0.9, 0.9]
          - [0.9, 0.1]
          - [0.1, 0.9]
""",
        ["zone 'bowtie'", "crosses itself", "polygon[0]-[1]", "polygon[2]-[3]", "(0.5, 0.5)"],
    ),
    "zero area": (
        CAMERA
        + """\
    zones:
      - id: line
        unit: 南屿镇/旗山村
        polygon: [[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]]   #!
""",
        ["zone 'line'", "zero area"],
    ),
    "repeated point": (
        CAMERA
        + """\
    zones:
      - id: rep
        unit: 南屿镇/旗山村
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.1], [0.5, 0.9]]   #!
""",
        ["zone 'rep'", "polygon[2] repeats"],
    ),
    "fraction outside the frame": (
        CAMERA
        + """\
    zones:
      - id: wide
        unit: 南屿镇/旗山村
        polygon:
          - [0.1, 0.1]
          - [1.2, 0.1]                     #!
          - [0.9, 0.9]
""",
        ["zones[0].polygon[1]", "zone 'wide'", "(1.2, 0.1)", "outside the frame", "0..1"],
    ),
    "pixels written as fractions": (
        CAMERA
        + """\
    zones:
      - id: px
        unit: 南屿镇/旗山村
        polygon:
          - [100, 100]                     #!
          - [0.9, 0.1]
          - [0.9, 0.9]
""",
        ["zone 'px'", "add coords: pixel"],
    ),
    "pixel outside the resolution": (
        CAMERA
        + """\
    zones:
      - id: big
        unit: 南屿镇/旗山村
        coords: pixel
        polygon:
          - [10, 10]
          - [600, 10]
          - [600, 500]                     #!
""",
        ["zone 'big'", "(600, 500)", "640x480 frame", "y runs 0..480"],
    ),
    "pixel without resolution": (
        """\
cameras:
  - id: cam1
    url: rtsp://127.0.0.1:8554/cam1
    zones:
      - id: px
        unit: 南屿镇/旗山村
        coords: pixel                      #!
        polygon: [[10, 10], [600, 10], [600, 400]]
""",
        ["zone 'px'", "needs the camera's frame size", "resolution: [width, height]", "'cam1'"],
    ),
    "duplicate zone id": (
        CAMERA
        + GOOD_ZONE
        + """\
      - id: yard                           #!
        unit: 南屿镇/旗山村
        polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]
""",
        ["duplicate zone id 'yard'"],
    ),
    "bad mask": (
        CAMERA
        + """\
    masks:
      - id: road
        polygon: [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]   #!
""",
        ["mask 'road'", "crosses itself"],
    ),
    "mask outside the frame": (
        CAMERA
        + """\
    masks:
      - coords: pixel
        polygon:
          - [0, 0]
          - [641, 0]                       #!
          - [641, 100]
""",
        ["mask 0", "(641, 0)", "640x480"],
    ),
    "duplicate mask id": (
        CAMERA
        + """\
    masks:
      - id: road
        polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5]]
      - id: road                           #!
        polygon: [[0.5, 0.5], [0.9, 0.5], [0.9, 0.9]]
""",
        ["duplicate mask id 'road'"],
    ),
    "malformed unit": (
        CAMERA
        + """\
    zones:
      - id: yard
        unit: 南屿镇//旗山村                #!
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
""",
        ["zone 'yard'", "should read town/village"],
    ),
    "unknown village": (
        UNITS
        + CAMERA
        + """\
    zones:
      - id: yard
        unit: 南屿镇/旗山                   #!
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
""",
        ["zones[0].unit", "zone 'yard'", "unknown unit", "did you mean 南屿镇/旗山村"],
    ),
    "unknown town": (
        UNITS
        + CAMERA
        + """\
    zones:
      - id: yard
        unit: 南峪镇/旗山村                 #!
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
""",
        ["zone 'yard'", "no town '南峪镇'", "did you mean 南屿镇"],
    ),
    "village without its town": (
        UNITS
        + CAMERA
        + """\
    zones:
      - id: yard
        unit: 旗山村                        #!
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
""",
        ["zone 'yard'", "needs its town: write 南屿镇/旗山村"],
    ),
    "ambiguous village": (
        UNITS
        + CAMERA
        + """\
    zones:
      - id: yard
        unit: 新村                          #!
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
""",
        ["zone 'yard'", "ambiguous", "上街镇/新村 or 祥谦镇/新村"],
    ),
    "village listed twice": (
        """\
units:
  district: 闽侯县
  towns:
    南屿镇: [旗山村, 南井村]
    上街镇:
      - 榕桥村
      - 榕桥村                              #!
"""
        + CAMERA,
        ["units.towns.上街镇[1]", "lists '榕桥村' twice"],
    ),
    "unknown structure class": (
        CAMERA
        + """\
    zones:
      - id: yard
        unit: 南屿镇/旗山村
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
        structure_classes: [tent]          #!
""",
        ["zone 'yard'", "'tent' is not in detector.structure_classes"],
    ),
    "zone override out of range": (
        CAMERA
        + """\
    zones:
      - id: yard
        unit: 南屿镇/旗山村
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9]]
        sensitivity: 1.5                   #!
""",
        ["zones[0].sensitivity", "less than or equal to 1"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_error_names_file_line_and_zone(tmp_path: Path, case: str) -> None:
    text, expected = CASES[case]
    problems = problems_of(tmp_path, text)
    line = marked_line(text)
    hits = [p for p in problems if p.startswith(f"{tmp_path / 'site.yaml'}:{line}: ")]
    assert hits, f"no problem at line {line}: {problems}"
    for part in expected:
        assert any(part in p for p in hits), f"{part!r} not in {hits}"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = (
        UNITS
        + CAMERA
        + """\
    zones:
      - id: a
        unit: 南屿镇/没有村
        polygon: [[0.1, 0.1], [1.5, 0.1], [0.9, 0.9]]
      - id: b
        unit: 上街镇/没有村
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 1.9]]
"""
    )
    problems = problems_of(tmp_path, text)
    assert len(problems) == 4, problems
    assert sum("zone 'a'" in p for p in problems) == 2
    assert sum("zone 'b'" in p for p in problems) == 2


def test_file_without_units_accepts_any_unit_path(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, CAMERA + GOOD_ZONE.replace("南屿镇/旗山村", "某镇/某村")))
    assert site.units is None
    assert site.cameras[0].zones[0].unit == "某镇/某村"


def test_valid_file_builds_zones_units_and_ground(tmp_path: Path) -> None:
    text = (
        UNITS
        + CAMERA
        + """\
    zones:
      - id: yard
        unit: 闽侯县/南屿镇/柳浪社区
        polygon: [[0.1, 0.5], [0.9, 0.5], [0.9, 0.9], [0.1, 0.9]]
        confirm_after: 4h
        structure_classes: [scaffolding]
      - id: roof
        unit: 上街镇
        coords: pixel
        polygon: [[320, 0], [640, 0], [640, 240], [320, 240]]
    masks:
      - {id: road, coords: pixel, polygon: [[0, 400], [640, 400], [640, 480], [0, 480]]}
    ground:
      points:
        - {pixel: [0, 480], metres: [0, 0]}
        - {pixel: [640, 480], metres: [20, 0]}
        - {pixel: [500, 200], metres: [20, 40]}
        - {pixel: [140, 200], metres: [0, 40]}
"""
    )
    site = load_site(write(tmp_path, text))
    cam = site.cameras[0]
    assert cam.zones[0].confirm_after == 4 * 3600
    assert site.units is not None
    zs = zoneset_for(cam, 640, 480, site.units.tree())
    assert [z.unit for z in zs.zones] == ["南屿镇/柳浪社区", "上街镇"]
    assert site.units.tree().resolve("南屿镇/柳浪社区").level == "community"
    zones, masks = camera_zones(cam)  # for CameraPipeline: fractions fit any frame size
    assert zones[1].coords == "fraction" and zones[1].polygon[1] == (1.0, 0.0)
    assert masks[0].id == "road" and masks[0].polygon[0] == (0.0, 400 / 480)
    # a 320x240 substream: pixel polygons and ground control points scale with it
    small = zoneset_for(cam, 320, 240)
    assert small.assign([[200, 10, 300, 100], [10, 205, 300, 238]]) == ["roof", None]
    assert small.polygon_px("roof").tolist() == [[160, 0], [319, 0], [319, 120], [160, 120]]
    full_gm, small_gm = ground_map_for(cam, 640, 480), ground_map_for(cam, 320, 240)
    assert full_gm is not None and small_gm is not None
    assert small_gm.to_ground([[250, 100]]) == pytest.approx(full_gm.to_ground([[500, 200]]))

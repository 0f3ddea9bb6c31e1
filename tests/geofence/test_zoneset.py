"""Zones, masks and membership by area overlap; reporting-unit resolution."""

from __future__ import annotations

import numpy as np
import pytest

from geofence import Mask, UnitTree, UnknownUnitError, Zone, ZoneSet
from geofence.polygons import frame_problems, shape_problems

W, H = 1000, 500


def two_zones(min_overlap: float = 0.5) -> ZoneSet:
    # west: x 100..500, y 100..400 with a masked road x 100..300, y 300..400
    # east: a triangle in pixels
    west = Zone("west", "南屿镇/旗山村", [(0.1, 0.2), (0.5, 0.2), (0.5, 0.8), (0.1, 0.8)])
    east = Zone("east", "南屿镇/南井村", [(600, 100), (900, 100), (900, 400)], coords="pixel")
    road = Mask([(0.1, 0.6), (0.3, 0.6), (0.3, 0.8), (0.1, 0.8)], id="road")
    return ZoneSet([west, east], [road], W, H, min_overlap=min_overlap)


def test_assign_by_share_of_area() -> None:
    zs = two_zones()
    boxes = np.array(
        [
            [200, 150, 300, 250],  # wholly in west
            [450, 150, 550, 250],  # half in west, half outside: exactly min_overlap
            [460, 150, 560, 250],  # 40 % in west
            [850, 120, 890, 160],  # inside the east triangle
            [120, 310, 280, 390],  # wholly under the mask
            [250, 250, 350, 350],  # in west, a quarter of it under the mask
            [0, 0, 50, 50],  # outside everything
        ],
        dtype=np.float32,
    )
    shares = zs.overlap(boxes)
    assert shares.shape == (7, 2)
    assert shares[0].tolist() == [1.0, 0.0]
    assert shares[1, 0] == pytest.approx(0.5)
    assert shares[2, 0] == pytest.approx(0.4)
    assert shares[4].tolist() == [0.0, 0.0]
    # box 5: 100x100 at 250..350; inside west x<=500, y 100..400 → all of it; masked part
    # x 250..300, y 300..350 = 2500 px² → watched share 0.75
    assert shares[5, 0] == pytest.approx(0.75)
    assert zs.assign(boxes) == ["west", "west", None, "east", None, "west", None]


def test_min_overlap_and_ties() -> None:
    strict = two_zones(min_overlap=0.8)
    assert strict.assign([[200, 150, 300, 250], [250, 250, 350, 350]]) == ["west", None]
    # two identical zones: the first listed wins a tie
    square = [(0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6)]
    zs = ZoneSet([Zone("a", "u", square), Zone("b", "u", square)], [], W, H)
    assert zs.assign([[300, 150, 400, 250]]) == ["a"]


def test_assign_polygon_and_degenerate_boxes() -> None:
    zs = two_zones()
    assert zs.assign_polygon([(200, 150), (300, 150), (250, 250)]) == "west"
    assert zs.assign_polygon([(120, 310), (280, 310), (200, 390)]) is None  # masked
    assert zs.assign_polygon([(880, 110), (890, 110), (890, 300)]) == "east"
    # a zero-area box counts as its centre point; reversed corners are accepted
    assert zs.assign([[200, 200, 200, 200], [300, 250, 200, 150]]) == ["west", "west"]
    assert zs.assign(np.zeros((0, 4))) == []
    with pytest.raises(ValueError, match="at least 3 corners"):
        zs.assign_polygon([(0, 0), (1, 1)])


def test_many_boxes_match_a_slow_reference() -> None:
    zs = two_zones()
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, [W, H], size=(2000, 2))
    wh = rng.uniform(5, 150, size=(2000, 2))
    boxes = np.hstack([xy, xy + wh])
    fast = zs.overlap(boxes)
    # reference by counting watched pixels of the rasterised watch mask
    watch = zs.watch_mask() > 0
    for i in rng.choice(len(boxes), 50, replace=False):
        x1, y1, x2, y2 = np.rint(boxes[i]).astype(int)
        x2, y2 = min(x2, W), min(y2, H)
        if x2 <= x1 + 10 or y2 <= y1 + 10:
            continue
        px_share = watch[y1:y2, x1:x2].sum() / ((y2 - y1) * (x2 - x1))
        assert fast[i].sum() == pytest.approx(px_share, abs=0.08)


def test_watch_mask_and_pixel_polygons() -> None:
    zs = two_zones()
    m = zs.watch_mask()
    assert m.shape == (H, W) and m.dtype == np.uint8
    assert m[200, 200] == 255 and m[350, 200] == 0 and m[350, 400] == 255
    assert m[120, 880] == 255 and m[380, 620] == 0 and m[20, 20] == 0
    # area: west 400x300 minus road 200x100, plus the east triangle 300x300/2
    assert (m > 0).sum() == pytest.approx(120000 - 20000 + 45000, rel=0.01)
    assert zs.polygon_px("west").tolist() == [[100, 100], [500, 100], [500, 400], [100, 400]]
    assert zs.polygon_px("east").dtype == np.int32
    full = ZoneSet([Zone("all", "u", [(0, 0), (1, 0), (1, 1), (0, 1)])], [], 64, 48)
    assert full.polygon_px("all").max(axis=0).tolist() == [63, 47]
    assert (full.watch_mask() == 255).all()
    with pytest.raises(KeyError, match="no zone 'nope'"):
        zs.zone("nope")


def test_constructor_errors_name_the_zone() -> None:
    with pytest.raises(ValueError, match="zone 'x': polygon crosses itself"):
        Zone("x", "u", [(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(ValueError, match="mask 'm': a polygon needs at least 3 points"):
        Mask([(0, 0), (1, 1)], id="m")
    with pytest.raises(ValueError, match="coords must be 'fraction' or 'pixel'"):
        Zone("x", "u", [(0, 0), (1, 0), (1, 1)], coords="metres")  # type: ignore[arg-type]
    big = Zone("big", "u", [(0, 0), (2000, 0), (2000, 100)], coords="pixel")
    with pytest.raises(ValueError, match=r"zone 'big': polygon\[1\].*outside the 1000x500"):
        ZoneSet([big], [], W, H)
    with pytest.raises(ValueError, match="duplicate zone id 'a'"):
        ZoneSet([Zone("a", "u", [(0, 0), (1, 0), (1, 1)])] * 2, [], W, H)
    with pytest.raises(ValueError, match=r"min_overlap must be in \(0, 1\], got 0"):
        ZoneSet([], [], W, H, min_overlap=0)
    with pytest.raises(ValueError, match="width and height must be positive ints, got 0x5"):
        ZoneSet([], [], 0, 5)


def test_polygon_helpers() -> None:
    assert shape_problems([(0, 0), (1, 0), (1, 1), (0, 0)]) == []  # closing point dropped
    assert "zero area" in shape_problems([(0, 0), (0.5, 0), (1, 0)])[0]
    assert "crosses itself" in shape_problems([(0, 0), (2, 0), (2, 2), (1, -1)])[0]
    assert "not a finite" in shape_problems([(0, 0), (float("nan"), 0), (1, 1)])[0]
    # a spike folding back on itself is a crossing, not a valid corner
    assert "crosses itself" in shape_problems([(0, 0), (2, 0), (1, 0), (1, 1)])[0]
    assert frame_problems([(0, 0), (1, 1)], "fraction", None, None) == []
    assert frame_problems([(640, 480)], "pixel", 640, 480) == []
    assert [i for i, _ in frame_problems([(0, 0), (-1, 5), (3, 3)], "pixel", 4, 4)] == [1]


def test_unit_tree() -> None:
    tree = UnitTree("闽侯县", {"南屿镇": ["旗山村", "柳浪社区"], "上街镇": []})
    assert tree.resolve("南屿镇/旗山村").path == "南屿镇/旗山村"
    assert tree.resolve(" 南屿镇 / 旗山村 ").name == "旗山村"
    assert tree.resolve("闽侯县/南屿镇/柳浪社区").level == "community"
    assert tree.resolve("上街镇").level == "town"
    assert tree.resolve("闽侯县").level == "district"
    assert [u.level for u in tree.units()] == ["district", "town", "village", "community", "town"]
    with pytest.raises(UnknownUnitError, match="did you mean 南屿镇/旗山村"):
        tree.resolve("南屿镇/旗山")
    with pytest.raises(UnknownUnitError, match="should read town/village"):
        tree.resolve("a/b/c/d")
    with pytest.raises(ValueError, match="lists '旗山村' twice"):
        UnitTree("闽侯县", {"南屿镇": ["旗山村", "旗山村"]})

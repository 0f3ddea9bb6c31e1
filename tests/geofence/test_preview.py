"""The zone preview, checked by its pixels: outlines where the zones are, masks dimmed,
labels in legible Chinese."""

from __future__ import annotations

import numpy as np
import pytest

from geofence import Mask, Zone, ZoneSet
from geofence.preview import BOX_COLOUR, TEXT_BG, cjk_font, colour_of, draw_zones

W, H = 640, 480
GREY = 90


def scene(unit: str = "南屿镇/旗山村") -> ZoneSet:
    return ZoneSet(
        [
            Zone("yard", unit, [(0.1, 0.3), (0.5, 0.3), (0.5, 0.9), (0.1, 0.9)], name="村东空地"),
            Zone("roof", "上街镇/榕桥村", [(400, 60), (620, 60), (620, 250)], coords="pixel"),
        ],
        [Mask([(0.2, 0.7), (0.4, 0.7), (0.4, 0.85), (0.2, 0.85)], id="road")],
        W,
        H,
    )


def blank() -> np.ndarray:
    return np.full((H, W, 3), GREY, dtype=np.uint8)


def share_of_colour(img: np.ndarray, points: np.ndarray, colour: tuple[int, int, int]) -> float:
    """Share of points whose 3x3 neighbourhood holds ``colour`` (within anti-aliasing)."""
    hits = 0
    for x, y in points:
        patch = img[y - 1 : y + 2, x - 1 : x + 2].reshape(-1, 3).astype(int)
        hits += bool((np.abs(patch - colour).max(axis=1) <= 30).any())
    return hits / len(points)


def along(p: tuple[int, int], q: tuple[int, int], n: int = 25) -> np.ndarray:
    t = np.linspace(0.1, 0.9, n)[:, None]
    return np.rint(np.array(p) * (1 - t) + np.array(q) * t).astype(int)


def test_outlines_are_where_the_zones_are() -> None:
    zs = scene()
    img = blank()
    out = draw_zones(img, zs)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert (img == GREY).all(), "the input image must not be drawn on"
    yard, roof = colour_of(0), colour_of(1)
    # the yard rectangle: x 64..320, y 144..432 (its label sits at the top-left corner)
    assert share_of_colour(out, along((320, 144), (320, 432)), yard) > 0.9  # right edge
    assert share_of_colour(out, along((64, 432), (320, 432)), yard) > 0.9  # bottom edge
    # the roof triangle in pixels
    assert share_of_colour(out, along((620, 60), (620, 250)), roof) > 0.9
    assert share_of_colour(out, along((400, 60), (620, 250)), roof) > 0.9
    # a few pixels off the outline there is no outline colour
    assert share_of_colour(out, along((330, 160), (330, 420)), yard) == 0
    assert share_of_colour(out, along((52, 250), (52, 420)), yard) == 0
    # outside every zone the frame is untouched; inside a zone it is only tinted
    assert (out[20:40, 200:300] == GREY).all()
    inside = out[300, 100].astype(int)
    assert np.abs(inside - GREY).max() > 5 and np.abs(inside - GREY).max() < 60
    # the mask (x 128..256, y 336..408) is darkened and outlined in grey
    masked = out[345:400, 140:245].reshape(-1, 3).astype(int)
    assert np.median(masked.sum(axis=1)) < 0.6 * 3 * GREY


def test_labels_are_drawn_in_a_cjk_font() -> None:
    font = cjk_font(24)
    assert "CJK" in font.getname()[0] or "Hei" in font.getname()[0]
    # real glyphs, not the same 'missing' box for every character
    a, b = (np.asarray(font.getmask(c)) for c in ("旗", "村"))
    assert a.any() and b.any()
    assert a.shape != b.shape or not np.array_equal(a, b)


def test_label_text_shows_the_unit() -> None:
    one = draw_zones(blank(), scene("南屿镇/旗山村"))
    two = draw_zones(blank(), scene("南屿镇/南井村"))
    # the yard label: just inside its top-left corner (64, 144), on a dark plate
    plate = one[148:175, 70:300]
    assert (np.abs(plate.astype(int) - TEXT_BG[::-1]).max(axis=2) <= 10).mean() > 0.4
    assert (np.abs(plate.astype(int) - colour_of(0)).max(axis=2) <= 40).sum() > 60  # text ink
    # a different village name changes the label, and only the label
    diff = np.abs(one.astype(int) - two.astype(int)).max(axis=2) > 0
    ys, xs = np.nonzero(diff)
    assert len(ys) > 30
    assert ys.min() >= 144 and ys.max() < 144 + 80 and xs.min() >= 64


def test_boxes_labels_notes_and_resizing() -> None:
    zs = scene()
    small = np.full((H // 2, W // 2), GREY, dtype=np.uint8)  # grey, half size
    out = draw_zones(
        small, zs, boxes=[[150, 200, 250, 300]], labels=["yard"], notes={"yard": "≈ 96 m²"}
    )
    assert out.shape == (H, W, 3)
    assert share_of_colour(out, along((250, 220), (250, 300)), BOX_COLOUR) > 0.9
    with pytest.raises(ValueError, match="image must be uint8"):
        draw_zones(np.zeros((H, W, 3), np.float32), zs)

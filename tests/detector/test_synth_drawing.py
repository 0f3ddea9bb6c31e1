"""Structures, light and training images of the synthetic generator."""

from __future__ import annotations

import numpy as np
import pytest

from synth.dataset import sample_image
from synth.light import LIGHTS, light_at
from synth.structures import STRUCTURE_CLASSES, draw_structure, render_structure

BOX = (40, 30, 160, 120)


def _canvas() -> np.ndarray:
    rng = np.random.default_rng(0)
    gray = 110 + rng.integers(-8, 9, (160, 200, 1))  # gray with grain: IR must stay gray
    return np.repeat(gray, 3, axis=2).astype(np.uint8)


@pytest.mark.parametrize("cls", STRUCTURE_CLASSES)
@pytest.mark.parametrize("light", LIGHTS)
def test_structure_draws_inside_its_box_under_every_light(cls: str, light: str) -> None:
    img = _canvas()
    before = img.copy()
    box = draw_structure(img, cls, BOX, np.random.default_rng(1), light=light, sun_dx=0.5)
    assert box is not None
    x1, y1, x2, y2 = box
    assert BOX[0] - 2 <= x1 < x2 <= BOX[2] + 2 and BOX[1] - 2 <= y1 < y2 <= BOX[3] + 2
    changed = np.abs(img.astype(int) - before.astype(int)).max(axis=2) > 12
    inside = changed[y1:y2, x1:x2].mean()
    assert inside > 0.15, f"only {inside:.0%} of the returned box changed"
    # nothing is drawn left of or above the box (shadows fall right and down with sun_dx > 0)
    assert not changed[:, : BOX[0] - 3].any() and not changed[: BOX[1] - 3].any()
    if light == "ir":
        region = img[y1:y2, x1:x2].astype(int)
        assert np.abs(region[..., 0] - region[..., 2]).max() <= 1, "infrared is grayscale"


@pytest.mark.parametrize("cls", STRUCTURE_CLASSES)
def test_structure_grows_with_progress_and_keeps_its_design(cls: str) -> None:
    cover = []
    for p in (0.0, 0.35, 1.0):
        sp = render_structure(cls, 100, 80, np.random.default_rng(5), progress=p)
        cover.append(float(sp.alpha.sum()))
    assert cover[0] == 0.0 and cover[1] > 0.0
    if cls == "construction_machinery":  # arrives whole; the boom moves while it digs
        assert cover[1] != cover[2]
    else:
        assert cover[1] < cover[2]
    a = render_structure(cls, 100, 80, np.random.default_rng(5))
    b = render_structure(cls, 100, 80, np.random.default_rng(5))
    c = render_structure(cls, 100, 80, np.random.default_rng(6))
    assert np.array_equal(a.rgb, b.rgb) and a.bbox == b.bbox
    assert not np.array_equal(a.rgb, c.rgb)


def test_draw_structure_rejects_bad_arguments() -> None:
    img = _canvas()
    with pytest.raises(ValueError, match="cls must be one of"):
        draw_structure(img, "tent", BOX, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"progress must be in 0\.\.1, got 1\.5"):
        draw_structure(img, "scaffolding", BOX, np.random.default_rng(0), progress=1.5)
    with pytest.raises(ValueError, match="light must be one of"):
        draw_structure(img, "scaffolding", BOX, np.random.default_rng(0), light="noon")
    assert draw_structure(img, "scaffolding", BOX, np.random.default_rng(0), progress=0.0) is None


def test_light_cycle_dusk_is_dim_and_night_switches_to_infrared() -> None:
    noon, dusk, night = light_at(12.5), light_at(18.2), light_at(23.0)
    assert noon.level > 2 * dusk.level > 0 and not dusk.ir
    assert night.ir and not light_at(23.0, ir_night=False).ir
    assert light_at(23.0, ir_night=False).level < 0.2 * noon.level


def test_sample_image_is_varied_labelled_and_deterministic() -> None:
    rng = np.random.default_rng(3)
    seen: set[str] = set()
    empty = gray = 0
    for _ in range(40):
        img, labels = sample_image(rng, (192, 160))
        assert img.shape == (160, 192, 3) and img.dtype == np.uint8
        empty += not labels
        gray += int(np.abs(img[..., 0].astype(int) - img[..., 2].astype(int)).mean() < 2)
        for cls, (x1, y1, x2, y2) in labels:
            seen.add(cls)
            assert 0 <= x1 < x2 <= 192 and 0 <= y1 < y2 <= 160
    assert seen == set(STRUCTURE_CLASSES)
    assert empty >= 1, "some images must hold no structure (hard negatives)"
    assert gray >= 3, "some images must be infrared (grayscale)"
    a = sample_image(np.random.default_rng(9), 128, ["scaffolding"])
    b = sample_image(np.random.default_rng(9), 128, ["scaffolding"])
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert all(cls == "scaffolding" for cls, _ in a[1])
    with pytest.raises(ValueError, match="classes must be among"):
        sample_image(rng, 128, ["hut"])

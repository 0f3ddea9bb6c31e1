"""Illumination-robust comparison, light modes and registration on rendered scene frames."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from detector.frames import (
    LightMode,
    LightThresholds,
    analysis_size,
    is_light_source,
    prepare,
    texture_change,
)
from detector.registration import Registrar
from synth.scene import Build, render
from synth.suite import get_scenario

H = 3600.0


@pytest.fixture(scope="module")
def day_frames() -> list[np.ndarray]:
    """Frames 30 (empty yard) and 200 (shed built) of the zone_day scene."""
    sc = get_scenario("zone_day")
    return list(render(sc, [30, 200]))


def _change(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    pa, pb = prepare(a, 384), prepare(b, 384)
    score, _ = texture_change(pb.norm, pa.norm, 7, pb.chroma_map, pa.chroma_map)
    return score


def test_global_light_change_is_not_a_change(day_frames: list[np.ndarray]) -> None:
    frame = day_frames[0]
    darker = np.clip(frame.astype(np.float32) * 0.45 + 12, 0, 255).astype(np.uint8)
    score = _change(frame, darker)
    assert np.percentile(score, 99) < 0.15, "a darker copy of the same frame looks changed"


def test_new_structure_is_a_change(day_frames: list[np.ndarray]) -> None:
    before, after = day_frames
    score = _change(before, after)
    sc = get_scenario("zone_day")
    build = next(e for e in sc.events if isinstance(e, Build))
    w, h = analysis_size(sc.size[0], sc.size[1], 384)
    x1, y1, x2, y2 = (int(v) for v in np.array(build.box) * [w, h, w, h])
    inside = float(score[y1:y2, x1:x2].mean())
    outside = float(np.median(score))
    assert inside > 0.2 > outside + 0.1, (inside, outside)


def test_light_modes_from_frame_statistics() -> None:
    sc = dataclasses.replace(get_scenario("dusk_ir_night"), start_hour=12.0)
    noon, evening, night = render(sc, [0, int(7.2 * H / sc.seconds_per_frame), 240])
    modes = [prepare(f, 384) for f in (noon, evening, night)]
    rules = LightThresholds()
    found = [rules.classify(p.luma, p.chroma, None) for p in modes]
    assert found[0] is LightMode.DAY
    assert found[2] is LightMode.INFRARED  # the scene's camera switches to infrared at night
    # a dark colour frame is night
    dark = (noon.astype(np.float32) * 0.2).astype(np.uint8)
    p = prepare(dark, 384)
    assert rules.classify(p.luma, p.chroma, None) is LightMode.NIGHT


def test_hysteresis_keeps_the_mode_near_the_threshold() -> None:
    rules = LightThresholds(night_luma=55.0, hysteresis=8.0)
    assert rules.classify(58.0, 20.0, LightMode.NIGHT) is LightMode.NIGHT
    assert rules.classify(58.0, 20.0, LightMode.DAY) is LightMode.DAY
    assert rules.classify(65.0, 20.0, LightMode.NIGHT) is LightMode.DAY


@pytest.mark.parametrize("dx, dy", [(3.0, 2.0), (-4.0, 1.0), (0.0, 0.0)])
def test_registration_finds_a_small_shift(
    day_frames: list[np.ndarray], dx: float, dy: float
) -> None:
    frame = day_frames[0]
    h, w = frame.shape[:2]
    moved = cv2.warpAffine(
        frame, np.array([[1, 0, dx], [0, 1, dy]], np.float32), (w, h), borderMode=cv2.BORDER_REFLECT
    )
    ref, cur = prepare(frame, 384), prepare(moved, 384)
    shift = Registrar().estimate(cur.norm, ref.norm)
    assert shift.dx == pytest.approx(dx * ref.scale, abs=0.35)
    assert shift.dy == pytest.approx(dy * ref.scale, abs=0.35)
    aligned, valid = Registrar.align(cur.norm, shift)
    inner = valid.copy()
    inner[:6], inner[-6:], inner[:, :6], inner[:, -6:] = False, False, False, False
    residual = float(np.abs(aligned - ref.norm)[inner].mean())
    unaligned = float(np.abs(cur.norm - ref.norm)[inner].mean())
    assert residual < 0.5 * unaligned or (dx, dy) == (0.0, 0.0)


def test_registration_does_not_modify_its_inputs(day_frames: list[np.ndarray]) -> None:
    ref = prepare(day_frames[0], 384).norm
    cur = prepare(day_frames[1], 384).norm
    ref_copy, cur_copy = ref.copy(), cur.copy()
    Registrar().estimate(cur, ref)
    assert np.array_equal(ref, ref_copy) and np.array_equal(cur, cur_copy)


def test_lit_window_in_a_dim_frame_is_a_light() -> None:
    gray = np.full((100, 100), 40, np.uint8)
    gray[40:50, 40:50] = 230
    assert is_light_source(gray, (38, 38, 52, 52), luma=40.0)
    assert not is_light_source(gray, (38, 38, 52, 52), luma=120.0)  # daylight: not a lamp
    assert not is_light_source(gray, (0, 0, 100, 100), luma=40.0)  # mostly unlit


def test_prepare_rejects_a_grey_image() -> None:
    with pytest.raises(ValueError, match="frame_bgr"):
        prepare(np.zeros((10, 10), np.uint8), 384)


def test_tone_curve_fit_matches_lstsq_and_survives_a_flat_reference() -> None:
    from detector.frames import _least_squares, tone_difference

    rng = np.random.default_rng(3)
    x = rng.normal(size=3000)
    basis = np.stack([x**k for k in range(3)], axis=1)
    y = 0.3 + 1.7 * x - 0.2 * x * x + rng.normal(0, 0.01, x.size)
    expected = np.linalg.lstsq(basis, y, rcond=None)[0]
    assert np.allclose(_least_squares(basis, y), expected, rtol=1e-9, atol=1e-12)
    cur = rng.normal(size=(40, 60)).astype(np.float32)
    flat = tone_difference(cur, np.zeros_like(cur))  # singular fit: lstsq takes over
    assert np.isfinite(flat).all()  # only a constant taken out: the same spread
    assert np.isclose(float(flat.std()), float(cur.std()), rtol=1e-4)

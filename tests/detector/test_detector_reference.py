"""The long-term reference: median warm-up, slow masked updates, saving and restoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detector.frames import LightMode, texture_change
from detector.reference import (
    GAP_COUNTS,
    AdaptClock,
    Reference,
    ReferenceSet,
    sample_weight,
    shade_free_median,
)

SHAPE = (40, 60)
COLOR = (50, 75)


def _scene(rng: np.random.Generator) -> np.ndarray:
    return rng.normal(0, 1, SHAPE).astype(np.float32)


def test_warmup_median_ignores_a_walker_seen_in_few_samples() -> None:
    rng = np.random.default_rng(1)
    scene = _scene(rng)
    ref = Reference(SHAPE, COLOR, warmup=10)
    for i in range(10):
        sample = scene + rng.normal(0, 0.05, SHAPE).astype(np.float32)
        if i in (2, 5, 7):  # someone stands in the same place in three samples
            sample[10:20, 10:15] = 5.0
        assert not ref.ready
        color = np.full((*COLOR, 3), 100, np.uint8)
        ref.add_warmup(sample, np.zeros((*SHAPE, 2), np.float32), color, luma=100.0)
    assert ref.ready and ref.warmup_left == 0
    assert float(np.abs(ref.mean - scene).max()) < 0.2
    assert ref.valid().all()
    assert ref.luma == pytest.approx(100.0)


def test_warmup_under_passing_clouds_draws_no_shadow_edges() -> None:
    """Half the warm-up samples have a cloud's ragged shadow over a flat wall, its edge
    elsewhere each time. The plain median switches between shaded and lit from pixel to
    pixel and draws edges that no sample has; brought to one light first, the samples
    agree, and a lit sample after the warm-up finds the wall unchanged."""
    shape = (108, 192)
    rng = np.random.default_rng(5)
    wall = np.full(shape, 0.5, np.float32)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    samples = []
    for i in range(10):
        sample = wall + rng.normal(0, 0.03, shape)
        if i % 2 == 0:
            edge = 60 + 12 * i + 8 * np.sin(yy / 7.0 + i)
            sample -= rng.uniform(0.6, 1.0) / (1 + np.exp(xx - edge))
        samples.append(sample.astype(np.float32))
    lit = (wall + rng.normal(0, 0.03, shape)).astype(np.float32)
    inner = np.s_[10:-10, 10:-10]
    plain = np.median(np.stack(samples), axis=0).astype(np.float32)
    plain_change = float(texture_change(lit, plain, 7)[0][inner].max())
    free_change = float(
        texture_change(lit, shade_free_median(np.stack(samples)), 7)[0][inner].max()
    )
    assert free_change < 0.4 * plain_change and free_change < 0.1
    ref = Reference(shape, COLOR, warmup=10)
    for sample in samples:
        ref.add_warmup(
            sample, np.zeros((*shape, 2), np.float32), np.zeros((*COLOR, 3), np.uint8), 90.0
        )
    assert float(texture_change(lit, ref.mean, 7)[0][inner].max()) < 0.1  # the warm-up's own


def test_a_gap_in_the_samples_does_not_carry_its_length_into_the_reference() -> None:
    """Sampled every 5 min, then an hour with the lens covered: the first sample after it
    weighs as a sample 15 min after the last, not an hour. A camera sampled every 30
    min keeps its own interval."""
    clock = AdaptClock(3600.0)
    assert [clock.weight(t) for t in (0.0, 300.0)] == [sample_weight(0.0, 3600.0)] + [
        pytest.approx(sample_weight(300.0, 3600.0))
    ]
    assert clock.weight(300.0 + 3900.0) == pytest.approx(sample_weight(GAP_COUNTS, 3600.0))
    assert clock.weight(4500.0) == pytest.approx(sample_weight(300.0, 3600.0))
    sparse = AdaptClock(3600.0)
    weights = [sparse.weight(1800.0 * k) for k in range(3)]
    assert weights[2] == pytest.approx(sample_weight(1800.0, 3600.0))
    sparse.reset()
    assert sparse.weight(9000.0) == sample_weight(0.0, 3600.0)  # a new start: no gap


def _ready(warmup: int = 3) -> Reference:
    ref = Reference(SHAPE, COLOR, warmup=warmup)
    for _ in range(warmup):
        ref.add_warmup(
            np.zeros(SHAPE, np.float32),
            np.zeros((*SHAPE, 2), np.float32),
            np.zeros((*COLOR, 3), np.uint8),
            luma=80.0,
        )
    return ref


def test_absorb_leaves_pixels_with_rate_zero_alone() -> None:
    ref = _ready()
    rate = np.full(SHAPE, 0.5, np.float32)
    rate[:, :30] = 0.0  # a pending region
    ref.absorb(np.ones(SHAPE, np.float32), np.ones((*SHAPE, 2), np.float32), rate, luma=80.0)
    assert np.all(ref.mean[:, :30] == 0.0)
    assert np.allclose(ref.mean[:, 30:], 0.5)
    assert np.allclose(ref.chroma_map[:, 30:], 0.5)


def test_forgotten_pixels_are_relearnt_fast_and_invalid_meanwhile() -> None:
    ref = _ready(warmup=4)
    mask = np.zeros(SHAPE, bool)
    mask[5:10, 5:10] = True
    ref.forget(mask)
    assert not ref.valid()[mask].any() and ref.valid()[~mask].all()
    rate = np.full(SHAPE, 0.001, np.float32)
    ref.absorb(np.ones(SHAPE, np.float32), np.zeros((*SHAPE, 2), np.float32), rate, 80.0)
    assert np.allclose(ref.mean[mask], 1.0)  # first sample after forgetting: taken as is
    assert ref.mean[~mask].max() < 0.01


def test_reference_set_saves_and_restores(tmp_path: Path) -> None:
    refs = ReferenceSet(SHAPE, COLOR, warmup=3)
    day = refs.get(LightMode.DAY)
    for k in range(3):
        day.add_warmup(
            np.full(SHAPE, float(k), np.float32),
            np.zeros((*SHAPE, 2), np.float32),
            np.full((*COLOR, 3), 7, np.uint8),
            luma=90.0,
        )
    refs.get(LightMode.NIGHT)  # not warmed up: not saved
    refs.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.npz", "reference.json"]

    again = ReferenceSet(SHAPE, COLOR, warmup=3)
    assert again.load(tmp_path) == [LightMode.DAY]
    restored = again.get(LightMode.DAY)
    assert restored.ready and np.allclose(restored.mean, 1.0)
    assert restored.luma == pytest.approx(90.0)
    assert np.all(restored.color == 7)

    other_size = ReferenceSet((20, 30), COLOR, warmup=3)
    assert other_size.load(tmp_path) == []  # another analysis size: start afresh


def test_warmup_must_be_positive() -> None:
    with pytest.raises(ValueError, match="warmup"):
        Reference(SHAPE, COLOR, warmup=0)


@pytest.mark.parametrize("count", [1, 2, 5, 6])
def test_median_of_colour_pictures_is_numpys_median(count: int) -> None:
    from detector.reference import median_of

    rng = np.random.default_rng(count)
    images = [rng.integers(0, 256, (9, 11, 3), dtype=np.uint8) for _ in range(count)]
    images[0][0, 0] = 255  # ties and extremes
    expected = np.median(np.stack(images), axis=0).astype(np.uint8)
    assert np.array_equal(median_of(images), expected)

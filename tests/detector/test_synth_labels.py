"""Training labels of the generator: one box per object, piles that stand out, walls unnamed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from synth.dataset import _inside, _iou, _plan, sample_image
from synth.shapes_site import PILES
from synth.structures import STRUCTURE_CLASSES, render_structure, wall_sprite


def _parts(alpha: np.ndarray) -> list[int]:
    """Pixel counts of the separate drawn parts (coverage > 0.35, gaps of 1 px bridged)."""
    mask = cv2.dilate((alpha > 0.35).astype(np.uint8), np.ones((3, 3), np.uint8))
    n, lab = cv2.connectedComponents(mask)
    return sorted((int((lab == i).sum()) for i in range(1, n)), reverse=True)


@pytest.mark.parametrize("kind", PILES)
def test_a_materials_box_holds_one_pile_that_fills_it(kind: str) -> None:
    for seed in range(6):
        sp = render_structure(
            "building_materials", 120, 60, np.random.default_rng(seed), style={"pile": kind}
        )
        parts = _parts(sp.alpha)
        assert parts and parts[0] >= 0.95 * sum(parts), f"{kind} seed {seed}: parts {parts}"
        assert sp.bbox is not None
        x1, _, x2, _ = sp.bbox
        assert x2 - x1 >= 0.75 * 120, f"{kind} seed {seed}: the pile is {x2 - x1} px of 120"


def test_materials_reject_an_unknown_pile() -> None:
    with pytest.raises(ValueError, match="pile must be one of"):
        render_structure(
            "building_materials", 60, 40, np.random.default_rng(0), style={"pile": "x"}
        )


def test_sites_with_several_piles_label_each_pile() -> None:
    rng = np.random.default_rng(4)
    several = 0
    for _ in range(40):
        _, labels = sample_image(rng, 256, ["building_materials"])
        boxes = [b for _, b in labels]
        several += len(boxes) >= 2
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                fa, fb = tuple(map(float, a)), tuple(map(float, b))
                assert _iou(fa, fb) <= 0.15, (a, b)
    assert several >= 5, "piles beside piles must be common"


def test_no_structure_is_planned_inside_another() -> None:
    rng = np.random.default_rng(2)
    plans = [
        _plan(rng, 320, 320, 0.2, float(rng.uniform(0.7, 2.2)), 4, STRUCTURE_CLASSES)
        for _ in range(60)
    ]
    assert sum(len(p) for p in plans) > 120
    for plan in plans:
        for i, (_, a) in enumerate(plan):
            for _, b in plan[i + 1 :]:
                assert _iou(a, b) <= 0.15 and _inside(a, b) <= 0.3, (a, b)


def test_a_yard_wall_is_drawn_whole_and_never_labelled() -> None:
    sp = wall_sprite(np.random.default_rng(1), 150, 30)
    assert sp.bbox is not None and (sp.alpha > 0.5).mean() > 0.3
    x1, y1, x2, y2 = sp.bbox
    assert x2 - x1 >= 140 and y2 - y1 >= 27
    rng = np.random.default_rng(8)
    for _ in range(10):
        _, labels = sample_image(rng, 160)
        assert {cls for cls, _ in labels} <= set(STRUCTURE_CLASSES)

"""``bench/bench_structure_ap.py``: the AP50 figures of the model card and ``bench_replay``."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from bench.bench_structure_ap import (
    ALL,
    _match,
    ap50,
    average_precision,
    format_rows,
    held_out,
    recorded_before,
)
from detector.structure import default_structure_model
from synth.structures import STRUCTURE_CLASSES


def test_average_precision_of_known_rankings() -> None:
    """Same interpolation as ultralytics (``compute_ap``): the curve is closed at recall 1."""
    perfect = average_precision([0.9, 0.8], [True, True], 2)
    half = average_precision([0.9], [True], 2)
    false_first = average_precision([0.9, 0.8, 0.7], [False, True, True], 2)
    false_last = average_precision([0.9, 0.8, 0.7], [True, True, False], 2)
    assert perfect == pytest.approx(0.995, abs=1e-3)
    assert half == pytest.approx(0.75, abs=1e-3)
    assert false_first == pytest.approx(0.663, abs=1e-3)
    assert false_last == pytest.approx(perfect)  # after every box is found it costs nothing
    assert average_precision([], [], 3) == 0.0
    assert math.isnan(average_precision([0.5], [False], 0))


def test_matching_is_greedy_by_score_one_detection_per_box_and_same_class() -> None:
    labels = [("scaffolding", (10, 10, 50, 50)), ("steel_roof_shed", (60, 60, 90, 90))]
    boxes = np.array([[10, 10, 50, 50], [11, 11, 50, 50], [60, 60, 90, 90]], np.float32)
    scores = np.array([0.5, 0.9, 0.8], np.float32)
    names = ("scaffolding", "scaffolding", "scaffolding")  # the shed is named wrong
    found = _match(boxes, scores, names, labels)
    assert found == [
        ("scaffolding", pytest.approx(0.9), True),
        ("scaffolding", pytest.approx(0.8), False),
        ("scaffolding", pytest.approx(0.5), False),  # its box was taken by a higher score
    ]


def test_the_recorded_figures_of_the_old_weights_cover_every_class() -> None:
    name, ap = recorded_before()
    assert "before" in name and set(ap) == {*STRUCTURE_CLASSES, ALL}
    assert ap[ALL] == pytest.approx(np.mean([ap[c] for c in STRUCTURE_CLASSES]), abs=0.002)


@pytest.mark.slow
def test_the_shipped_model_scores_on_a_few_held_out_images(tmp_path: Path) -> None:
    data = held_out(12)
    assert held_out(12)[3][1] == data[3][1]  # the same images every time
    ap = ap50(default_structure_model(), data)
    assert set(ap) == {*STRUCTURE_CLASSES, ALL}
    assert ap[ALL] > 0.5  # a working model, not noise
    table = format_rows([("old.onnx", ap), ("new.onnx", ap)])
    assert "| building_materials |" in table and "+0.000" in table

"""In unsteady light (dusk, a passing cloud) pending candidates are not merged: changes
appear all around a structure at once, and a merge would restart its clock."""

from __future__ import annotations

import numpy as np
import pytest

from detector.frames import LightMode
from detector.tracking import Tracker
from detector.tracks import Observation

SHAPE = (120, 160)
BUILT = (40, 40, 70, 70)  # a structure pending since t = 0
APART = (100, 40, 115, 70)  # a change that appears later, apart from it …
BRIDGE = (72, 40, 98, 70)  # … and then one between the two


def _obs(t: float, boxes: list[tuple[int, int, int, int]], *, light_ok: bool) -> Observation:
    rng = np.random.default_rng(0)  # the same scene in every sample
    norm = rng.normal(0, 1, SHAPE).astype(np.float32)
    changed = np.zeros(SHAPE, bool)
    for x1, y1, x2, y2 in boxes:
        changed[y1:y2, x1:x2] = True
    everywhere = np.ones(SHAPE, bool)
    regions = [(b, "yard", 2.0) for b in boxes]
    return Observation(
        t,
        int(t // 300),
        LightMode.DAY,
        norm,
        np.zeros(SHAPE, np.float32),
        changed,
        everywhere,
        everywhere,
        regions,
        light_ok=light_ok,
        light_like=light_ok,
    )


@pytest.mark.parametrize("light_ok", [True, False])
def test_changes_around_a_pending_structure(light_ok: bool) -> None:
    tracker = Tracker()
    tracker.observe(_obs(0.0, [BUILT], light_ok=True))
    (built,) = tracker.tracks
    tracker.observe(_obs(300.0, [BUILT], light_ok=True))
    tracker.observe(_obs(600.0, [BUILT, APART], light_ok=light_ok))
    assert len(tracker.tracks) == 2
    tracker.observe(_obs(900.0, [BUILT, BRIDGE, APART], light_ok=light_ok))
    if light_ok:  # one object still growing: one track, timed from its newest part
        assert tracker.tracks == [built] and built.stable_since == 600.0
        assert built.box == (40, 40, 115, 70)
    else:  # dusk: the structure keeps its box and its clock; the rest stays apart
        assert len(tracker.tracks) == 2 and built.stable_since == 0.0
        assert built.box == BUILT


@pytest.mark.parametrize("left_turned_back", [True, False])
def test_a_box_that_sheds_its_morning_shadow_keeps_its_clock(left_turned_back: bool) -> None:
    """By noon the shed's morning shadow has left its west side and the noon one falls
    south: the box shifts. If the west side shows the reference again, what remains is
    the same place and the clock runs on; if it is still changed, the box moved."""
    morning, noon = (20, 40, 80, 80), (30, 40, 84, 88)
    tracker = Tracker()
    for t in (0.0, 300.0):
        tracker.observe(_obs(t, [morning], light_ok=True))
    (shed,) = tracker.tracks
    later = _obs(600.0, [noon], light_ok=True)
    if not left_turned_back:
        later.changed[40:80, 20:30] = True  # something still differs there
    tracker.observe(later)
    assert shed.box == noon
    assert (shed.stable_since == 0.0) is left_turned_back

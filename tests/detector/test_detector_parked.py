"""A vehicle parked for hours is not a structure, whatever a single look of the model says.

Unit tests on the tracker's decisions (no video, no model): the transient model's
verdicts are fed to ``Tracker.apply_transient`` as the pipeline feeds them; and one
short scene for a departure absorbed under a passing cloud.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from detector.backends import load_backend
from detector.events import event_json
from detector.frames import LightMode
from detector.tracking import LOOK_WINDOW, Tracker
from detector.tracks import Observation, Track
from sitewatch.evaluation import pipeline_for
from synth.scene import render
from synth.suite import get_scenario

SHAPE = (60, 80)
BOX = (20, 20, 50, 40)
CONFIRM = {"yard": 3600.0}


def _obs(t: float, *, known: bool = True, there: bool = True, seed: int = 0) -> Observation:
    """One sample: the van's box changed (``there``) where the reference knows the place
    (``known``), or seen only by its look where the reference does not know it."""
    rng = np.random.default_rng(seed)
    norm = rng.normal(0, 1, SHAPE).astype(np.float32)
    changed = np.zeros(SHAPE, bool)
    x1, y1, x2, y2 = BOX
    if there and known:
        changed[y1:y2, x1:x2] = True
    comparable = np.full(SHAPE, known)
    regions = [(BOX, "yard", 2.0)] if there and known else []
    reference = np.zeros(SHAPE, np.float32)
    visible = np.ones(SHAPE, bool)
    return Observation(
        t, int(t // 300), LightMode.DAY, norm, reference, changed, comparable, visible, regions
    )


def _parked(tracker: Tracker) -> Track:
    tracker.observe(_obs(0.0))
    (van,) = tracker.tracks
    return van


def _look(tracker: Tracker, van: Track, t: float, found: bool, **kw: bool) -> None:
    tracker.observe(_obs(t, **kw))
    van.last_seen = t
    tracker.apply_transient({van.id: found}, int(t // 300))


def test_one_look_that_misses_a_parked_van_does_not_clear_it() -> None:
    tracker = Tracker()
    van = _parked(tracker)
    for k in range(1, 5):  # the model sees the van at every look …
        _look(tracker, van, 900.0 * k, True)
    _look(tracker, van, 4500.0, False)  # … misses it once (shade, a cloud)
    assert van.transient and van.stable_since == 3600.0
    t = 4500.0 + CONFIRM["yard"]
    tracker.observe(_obs(t))
    assert tracker.confirm_due(CONFIRM, t) == []  # its hours do not count
    for k in range(LOOK_WINDOW):  # gone from every look: no vehicle there any more
        _look(tracker, van, t + 900.0 * k, False)
    assert not van.transient and van.stable_since == 3600.0


def test_a_van_found_in_about_half_the_looks_stays_transient() -> None:
    """A van that the model finds in 4 of 7 looks, two of the latest three missed (a
    held-out ``parked_vehicle``): still a vehicle, its hours do not count."""
    tracker = Tracker()
    van = _parked(tracker)
    for k, found in enumerate([True, True, True, False, False, True, False], start=1):
        _look(tracker, van, 900.0 * k, found)
    assert van.transient and van.stable_since == 900.0 * 6
    t = 900.0 * 6 + CONFIRM["yard"]
    tracker.observe(_obs(t))
    assert tracker.confirm_due(CONFIRM, t) == []


def test_a_machine_seen_as_a_truck_now_and_then_is_not_transient() -> None:
    tracker = Tracker()
    machine = _parked(tracker)
    _look(tracker, machine, 900.0, True)  # COCO calls an excavator a truck, once …
    assert machine.transient and machine.stable_since == 900.0
    _look(tracker, machine, 1800.0, False)
    _look(tracker, machine, 2700.0, False)  # … but most looks find nothing over it
    assert not machine.transient
    t = 900.0 + CONFIRM["yard"]
    tracker.observe(_obs(t))
    assert tracker.confirm_due(CONFIRM, t) == [machine]


def test_a_miss_where_the_reference_does_not_know_the_place_does_not_clear() -> None:
    """A van flagged by day stays flagged through an infrared night whose reference was
    learnt around it: there the model's misses say nothing (and the place is only seen
    by its look)."""
    tracker = Tracker()
    van = _parked(tracker)
    _look(tracker, van, 900.0, True)
    for k in range(2, 2 + 2 * LOOK_WINDOW):
        _look(tracker, van, 900.0 * k, False, known=False)
    assert van.transient and van.looks == [True]


def test_a_track_missing_where_compared_is_not_brought_back_by_its_look() -> None:
    """A cloud's edge pending at dusk, gone when last compared: in a light mode whose
    reference does not know the place, the unchanged ground must not count as it."""
    tracker = Tracker()
    edge = _parked(tracker)
    tracker.observe(_obs(300.0, there=False))
    assert edge.misses == 1
    for k in range(2, 10):  # the place keeps its look: the ground, nothing on it
        tracker.observe(_obs(300.0 * k, known=False, seed=1))
    assert edge.misses == 1 and edge.hits == 1 and edge.last_seen == 0.0
    assert not tracker.seen_now(edge)


def test_the_transient_verdicts_survive_a_restart() -> None:
    tracker = Tracker()
    van = _parked(tracker)
    _look(tracker, van, 900.0, True)
    _look(tracker, van, 1800.0, True)
    _look(tracker, van, 2700.0, False)
    again = Tracker()
    again.load_json(tracker.to_json())
    (restored,) = again.tracks
    assert restored.transient and restored.looks == [True, True, False]


@pytest.mark.slow
def test_a_van_gone_under_a_passing_cloud_leaves_no_ghost(shared_data: Path) -> None:
    """The van stood in the first reference; it leaves, and its ghost is absorbed as a
    departure in a sample a cloud's shadow half covers. The place is relearnt from the
    next samples too, so the shadow's edge does not stay in the reference and is never
    reported (a held-out seed of ``ghost_van_at_start``: about 4 s)."""
    sc = dataclasses.replace(get_scenario("ghost_van_at_start"), seed=331)
    transient = load_backend(shared_data / "models" / "yolox_nano_coco_416.onnx")
    pipe = pipeline_for(sc, transient=transient)
    events = []
    with pipe:
        for k, frame in enumerate(render(sc, range(sc.n_frames))):
            events += event_json(pipe.process(frame, k * sc.seconds_per_frame))
    assert pipe.departures >= 1  # the van's ghost was absorbed as something leaving
    assert [e for e in events if e["event"] == "confirmed"] == []

"""Light and a pending candidate's clock. In unsteady light (dusk, a passing cloud) pending
candidates are not merged: changes appear all around a structure at once, and a merge
would restart its clock. A look changed by the sun alone restarts it where the last part
was added, not where the change was noticed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from detector.frames import LightMode
from detector.reference import absorb_rates
from detector.tracking import Tracker
from detector.tracks import Observation, Track, TrackState, colour_kept

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


def test_a_box_keeps_its_colour_under_light_and_not_when_a_part_is_added() -> None:
    rng = np.random.default_rng(1)
    before = rng.normal(0, 0.02, (30, 40, 2)).astype(np.float32)
    assert colour_kept(before, before + np.float32(0.05))  # warmer afternoon light, evenly
    assert not colour_kept(before, before + np.float32(0.3))  # all of it another colour
    added = before.copy()
    added[:4, :] += np.float32(0.4)  # a new course of bricks along a tenth of the box
    assert not colour_kept(before, added)


@pytest.mark.parametrize("case", ["steady", "jumps", "night"])
def test_a_look_changed_only_by_light_since_the_last_part_restarts_the_clock_there(
    case: str,
) -> None:
    """The shed's template was taken at its first sample, before its roof was on; the roof
    (another colour) goes on at 30 min, then the sun turns its faces little by little until
    the look differs from that template. The clock restarts at the roof, not at the sample
    that noticed: by day the look and colour have been kept sample to sample since. Where
    each sample looks unlike the last (traffic) or at night (no colour), it restarts now."""
    rng = np.random.default_rng(2)
    morning, afternoon = (rng.normal(0, 1, SHAPE).astype(np.float32) for _ in range(2))
    tint = np.zeros((*SHAPE, 2), np.float32)
    tracker = Tracker()
    restarted: float | None = None
    for k in range(40):
        t = 600.0 * k
        if k == 3:  # the roof: another colour over a fifth of the box
            tint[40:46, 40:70] = 0.5
        mix = 0.0 if k < 4 else min(1.0, 0.08 * (k - 3))
        if case == "jumps" and k >= 4:
            mix = float(k % 2)  # every other sample another look
        obs = _obs(t, [BUILT], light_ok=True)
        norm = ((1 - mix) * morning + mix * afternoon).astype(np.float32)
        chroma = None if case == "night" else tint.copy()
        mode = LightMode.INFRARED if case == "night" else LightMode.DAY
        obs = dataclasses.replace(obs, norm=norm, chroma_diff=chroma, mode=mode)
        before = tracker.tracks[0].stable_since if tracker.tracks else None
        tracker.observe(obs)
        (track,) = tracker.tracks
        if before is not None and track.stable_since != before:
            restarted = t
            break
    assert restarted is not None, "the look never changed enough"
    if case == "steady":
        assert track.stable_since == 1800.0  # the roof's sample
    else:
        assert track.stable_since == restarted


@pytest.mark.parametrize("beside", [False, True])
def test_a_candidate_started_on_a_pending_place_while_it_counted_as_light(beside: bool) -> None:
    """A cloud's shadow over the shed makes its track count as light for a sample; the
    region seen next starts a candidate of its own on the same place, and the two are
    merged in the sample after: the shed's clock runs on. A part beside it (another
    place) is growth: the merged track is timed from that part."""
    tracker = Tracker()
    for t in (0.0, 300.0):
        tracker.observe(_obs(t, [BUILT], light_ok=True))
    (shed,) = tracker.tracks
    shed.illumination = True  # as the shadow passed
    other = (72, 40, 90, 70) if beside else (42, 38, 72, 72)
    tracker.observe(_obs(600.0, [other], light_ok=True))
    assert len(tracker.tracks) == 2  # not merged into a track that counted as light
    shed.illumination = False  # the shadow has gone: the next sample sees both as one
    tracker.observe(_obs(900.0, [BUILT, other] if beside else [other], light_ok=True))
    assert tracker.tracks == [shed]
    assert shed.stable_since == (600.0 if beside else 0.0)


@pytest.mark.parametrize("first", ["pile by day", "shadow", "pile at night"])
def test_a_cloud_over_a_pending_pile_does_not_let_the_reference_learn_it(first: str) -> None:
    """A low pile of materials under a cloud's shadow looks like shade on the ground: its
    box is evenly darker and keeps the ground's texture. The slow update learns the place
    of a pending candidate that is only light or shadow (a shadow that settled), but not
    of one once seen by day as more than that: learnt a little in every shaded sample, the
    pile would fade from the comparison and never be confirmed. At night, without colour
    to tell a thing from a lamp's uneven pool, being seen so does not count."""
    rng = np.random.default_rng(5)
    ground = rng.normal(0, 1, SHAPE).astype(np.float32)
    x1, y1, x2, y2 = BUILT
    pile, shaded = ground.copy(), ground.copy()
    pile[y1:y2, x1:x2] = rng.normal(1.5, 0.5, (y2 - y1, x2 - x1))  # its own surface
    shaded[y1:y2, x1:x2] -= 0.8  # the ground's own texture, evenly darker
    its_colours, even = np.zeros((*SHAPE, 2), np.float32), np.zeros((*SHAPE, 2), np.float32)
    its_colours[y1:y2, x1:x2] = rng.normal(0.2, 0.15, (y2 - y1, x2 - x1, 2))
    changed = np.zeros(SHAPE, bool)
    changed[y1:y2, x1:x2] = True
    everywhere = np.ones(SHAPE, bool)
    looks = {
        "pile by day": (LightMode.DAY, pile, its_colours),
        "shadow": (LightMode.DAY, shaded, even),
        "pile at night": (LightMode.INFRARED, pile, None),
    }
    tracker = Tracker()
    for k, (mode, norm, tint) in enumerate([looks[first], looks[first], looks["shadow"]]):
        regions = [(BUILT, "yard", 2.0)] if k == 0 else []  # then followed by its pixels
        seen = (changed, everywhere, everywhere, regions)
        tracker.observe(Observation(300.0 * k, k, mode, norm, ground, *seen, chroma_diff=tint))
    (track,) = tracker.tracks
    solid = first == "pile by day"
    assert track.illumination and track.solid is solid
    rate = absorb_rates(0.1, changed, everywhere, tracker.tracks)
    assert float(rate[y1:y2, x1:x2].max()) == (0.0 if solid else pytest.approx(0.1))
    assert Track.from_json(track.to_json()).solid is solid  # kept across a restart


@pytest.mark.parametrize("days", [0, 2])
def test_a_course_built_above_a_new_structure_is_that_structure(days: int) -> None:
    """A slow build's first part was confirmed; through the night a course goes up a
    little above it, further than boxes count as touching. While the structure is new
    (a day), a change up to its own size away is more of it, not a second structure;
    days later it is a change of its own."""
    tracker = Tracker()
    built = Track(1, "yard", (118, 76, 144, 87), 0.0, 0.0, 0.0, state=TrackState.CONFIRMED)
    built.confirmed_at = 0.0
    tracker.tracks.append(built)
    t = 3600.0 + days * 86400.0
    tracker.observe(_obs(t, [(120, 52, 159, 62)], light_ok=True))  # 14 px above it
    assert len(tracker.pending) == days // 2

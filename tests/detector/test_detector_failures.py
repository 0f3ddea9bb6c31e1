"""The three failure classes across a restart, the camera-state guard and two small fixes.

The failure scenes themselves (``synth.suite.failure_scenes``) are replayed
from encoded video by ``test_detector_suite.py``; here the pipeline is stopped part-way
through a scene and started again on the references and tracks it saved, and the
result must be the same: reported once and in time, or nothing reported.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from detector.backends import load_backend
from detector.backends.base import Backend
from detector.events import Event
from detector.evidence import EvidenceWriter, folder_name, site_zone
from detector.frames import LightMode, prepare
from detector.ghosts import looks_departed, stands_out
from detector.pipeline import CameraPipeline
from detector.reporting import event_json
from detector.settings import DetectorSettings
from detector.tracking import MATCHED_SAMPLES, Tracker
from detector.tracks import Observation, Track, TrackState, explained_by_light
from detector.view import ViewGuard, ViewState
from sitewatch.evaluation import pipeline_for
from synth.evaluation import score
from synth.scene import ground_truth, render
from synth.suite import get_scenario

SLACK = 4 * 300.0  # as in test_detector_suite.py


@pytest.fixture(scope="module")
def transient(shared_data: Path) -> Backend:
    return load_backend(shared_data / "models" / "yolox_nano_coco_416.onnx")


def _frames(name: str) -> list[tuple[float, np.ndarray]]:
    sc = get_scenario(name)  # the failure scenes have one keyframe per frame
    idx = list(range(sc.n_frames))
    return [(i * sc.seconds_per_frame, f) for i, f in zip(idx, render(sc, idx), strict=True)]


def _run(pipe: CameraPipeline, frames: list[tuple[float, np.ndarray]]) -> list[dict]:
    out = []
    with pipe:
        for t, frame in frames:
            out.extend(event_json(pipe.process(frame, t, wall=1_800_000_000.0 + t)))
    return out


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "split_h"),
    [
        ("ghost_van_dusk_ir", 2.5),  # 17:30: the van parked, the night not yet learnt
        ("ghost_van_at_start", 1.0),  # the van still in the first reference's place
        ("ptz_tour", 4.9),  # while the dome looks at its other preset
        ("slow_build_night", 14.0),  # 22:00, half built, in infrared
    ],
)
def test_after_a_restart_with_references_restored(
    name: str, split_h: float, transient: Backend, tmp_path: Path
) -> None:
    sc = get_scenario(name)
    frames = _frames(name)
    split = next(k for k, (t, _) in enumerate(frames) if t >= split_h * 3600)
    events = _run(pipeline_for(sc, transient=transient, reference_dir=tmp_path), frames[:split])
    assert (tmp_path / sc.name / "reference.json").is_file()
    again = pipeline_for(sc, transient=transient, reference_dir=tmp_path)
    events += _run(again, frames[split:])
    result = score(ground_truth(sc), events, slack=SLACK)
    shown = [(e["event"], e["bbox"], e["first_seen_s"], e["confirmed_s"]) for e in events]
    assert result.found == result.expected, f"missed; events {shown}"
    assert result.false_reports == [] and result.duplicates == 0, f"events {shown}"
    assert result.late == [], f"late: {shown}; latencies {result.latencies}"


def test_view_guard_tells_covered_flash_and_frozen_frames() -> None:
    rng = np.random.default_rng(0)
    guard = ViewGuard("cam", reaim_after=3600.0)
    scene = rng.integers(40, 200, (54, 96, 3)).astype(np.uint8)
    assert guard.check_frame(prepare(scene, 96)) is ViewState.OK
    guard.in_view(prepare(scene, 96), None)
    dark = np.full((54, 96, 3), 18, np.uint8)
    assert guard.check_frame(prepare(dark, 96)) is ViewState.COVERED
    blown = np.full((54, 96, 3), 255, np.uint8)
    assert guard.check_frame(prepare(blown, 96)) is ViewState.FLASH
    live = [np.clip(scene + rng.normal(0, 2, scene.shape), 0, 255).astype(np.uint8)]
    # a recorder that re-encodes its repeats: now and then a copy a fraction of a level off
    recoded = live[0].copy()
    recoded[::3] = np.clip(recoded[::3].astype(np.int16) + 1, 0, 255).astype(np.uint8)
    fresh = np.clip(scene + rng.normal(0, 2, scene.shape), 0, 255).astype(np.uint8)
    frames = live + [live[0]] * 3 + [recoded, live[0], fresh]
    states = [guard.check_frame(prepare(f, 96)) for f in frames]
    frozen = [ViewState.FROZEN] * 4
    assert states == [ViewState.OK, ViewState.OK, *frozen, ViewState.OK]
    # live again: the same small difference is a new sample, not a repeat
    nudged = fresh.copy()
    nudged[::3] = np.clip(nudged[::3].astype(np.int16) + 1, 0, 255).astype(np.uint8)
    assert [guard.check_frame(prepare(f, 96)) for f in (nudged, fresh)] == [ViewState.OK] * 2
    with pytest.raises(ValueError, match="reaim_after"):
        ViewGuard("cam", reaim_after=0.0)


def test_the_more_of_the_picture_differs_the_less_of_a_peak_drop_means_another_view() -> None:
    """A PTZ preset seen for one sample: a quarter of the picture differs and the
    correlation peak is at 30 % of its usual height, just over the limit that a tenth
    differing needs; in view, a new structure over a tenth with a fair peak is no tour."""
    guard = ViewGuard("cam", reaim_after=3600.0)
    guard.in_view(prepare(np.full((54, 96, 3), 90, np.uint8), 96), 0.75)
    valid = np.ones((50, 100), bool)

    def differing(share: float) -> np.ndarray:
        distance = np.zeros((50, 100), np.float32)
        distance.flat[: int(share * distance.size)] = 1.0
        return distance

    assert guard.check_view(differing(0.24), valid, 0.227, True) is ViewState.AWAY
    assert guard.check_view(differing(0.24), valid, 0.227, False) is ViewState.OK  # dusk
    assert guard.check_view(differing(0.12), valid, 0.30, True) is ViewState.OK
    assert guard.check_view(differing(0.12), valid, 0.20, True) is ViewState.AWAY
    assert guard.check_view(differing(0.6), valid, 0.75, True) is ViewState.AWAY


def test_a_view_gone_for_good_is_learnt_once_and_a_covered_lens_never() -> None:
    guard = ViewGuard("cam", reaim_after=3600.0)
    away = [guard.skipped(ViewState.AWAY, t) for t in range(0, 7300, 600)]
    assert away.count(True) == 1 and away.index(True) == 6  # after 3600 s, once
    assert guard.changes == 1
    covered = [guard.skipped(ViewState.COVERED, 8000.0 + t) for t in range(0, 20000, 600)]
    assert not any(covered) and guard.changes == 1
    assert guard.counts[ViewState.AWAY] == len(away)
    assert guard.away == len(away) + len(covered)


def test_reaim_after_is_a_bounded_setting() -> None:
    assert DetectorSettings().reaim_after == 7200.0
    assert DetectorSettings(reaim_after="30m").reaim_after == 1800.0
    with pytest.raises(ValueError, match="reaim_after"):
        DetectorSettings(reaim_after="5s")


class _NamesEverythingScaffolding:
    """A labeler whose class the zone does not count (the zone counts sheds only)."""

    def label(
        self, after_crop_bgr: np.ndarray, before_crop_bgr: np.ndarray | None = None
    ) -> tuple[str, float] | None:
        return ("scaffolding", 0.9)

    def trusted(self, name: str, score: float) -> bool:
        return True


def test_an_uncounted_structure_is_never_reported_gone() -> None:
    sc = get_scenario("demolished")  # a shed built, confirmed, then demolished
    idx = list(range(0, sc.n_frames, 5))
    frames = [(i * sc.seconds_per_frame, f) for i, f in zip(idx, render(sc, idx), strict=True)]
    settings = DetectorSettings(structure_classes=["steel_roof_shed"])
    pipe = pipeline_for(sc, settings=settings, labeler=_NamesEverythingScaffolding())
    events = _run(pipe, frames)
    assert events == []
    assert pipe.cam.events.suppressed == 1


def test_evidence_folders_are_named_in_the_site_time_zone(tmp_path: Path) -> None:
    record = Event(
        "confirmed", "cam1", "yard", "u", (1.0, 2.0, 30.0, 40.0), 0.8, "change", 0.0, 9.0,
        None, (480, 270), "4f95e20e3a000000",
    )  # fmt: skip
    wall = 1_800_000_000.0  # 2027-01-15 08:00:00 UTC
    assert folder_name(record, wall) == "20270115T080000-yard-4f95e20e"
    assert folder_name(record, wall, "Asia/Shanghai") == "20270115T160000-yard-4f95e20e"
    writer = EvidenceWriter(tmp_path, "cam1", tz="Asia/Shanghai")
    assert writer.tz == site_zone("Asia/Shanghai")
    with pytest.raises(ValueError, match="tz"):
        EvidenceWriter(tmp_path, "cam1", tz="Mars/Olympus")


def _ground(rng: np.random.Generator, h: int = 60, w: int = 80) -> np.ndarray:
    return rng.normal(0.0, 0.4, (h, w)).astype(np.float32)


def test_a_shadow_moving_on_or_off_is_light_and_a_new_part_is_not() -> None:
    rng = np.random.default_rng(1)
    ref = _ground(rng)
    part = np.zeros(ref.shape, bool)
    part[10:40, 20:60] = True
    shadow = ref.copy()
    shadow[part] -= 0.8  # evenly darker: a shadow fell on the same ground
    assert explained_by_light(shadow, ref, part)
    assert explained_by_light(ref + rng.normal(0, 0.05, ref.shape), ref, part)  # it left
    built = ref.copy()
    built[part] = rng.normal(1.0, 0.6, int(part.sum()))  # a new surface with its own pattern
    assert not explained_by_light(built, ref, part)
    slab = ref.copy()
    slab[part] += 0.9  # brighter: a new slab, not a shadow
    assert not explained_by_light(slab, ref, part)
    chroma = np.zeros((*ref.shape, 2), np.float32)
    chroma[part] = rng.normal(0.0, 0.3, (int(part.sum()), 2))  # its colour changed unevenly
    assert not explained_by_light(shadow, ref, part, chroma)


def test_something_that_left_is_told_from_something_that_came() -> None:
    rng = np.random.default_rng(2)
    empty = _ground(rng)
    with_van = empty.copy()
    box = (30, 20, 50, 35)
    with_van[20:35, 30:50] = 2.5 + rng.normal(0, 0.1, (15, 20))  # a bright van on the ground
    assert looks_departed(empty, with_van, box)  # the reference had it; it is gone now
    assert not looks_departed(with_van, empty, box)  # it arrived: a change, not a departure
    assert stands_out(with_van, box) > 2 * stands_out(empty, box)


def test_a_van_gone_from_worn_ground_is_a_departure_by_brightness_by_day() -> None:
    """By day a van's place that now blends in by brightness is a departure although the
    ground it stood on is worn to a slightly other tint than its surroundings: the van's
    own tint was no further off, so colour tells nothing either way (summed with
    brightness it used to veto). A place whose colour stands out more than it did (a
    blue roof where the van stood) is not one, nor one whose reference stood out only by
    being more even than its ring."""
    rng = np.random.default_rng(4)
    empty = _ground(rng)
    colour = rng.normal(0.0, 0.1, (*empty.shape, 2)).astype(np.float32)
    box, place = (30, 20, 50, 35), (slice(20, 35), slice(30, 50))
    colour[place] += 0.09  # worn ground
    with_van, van_colour = empty.copy(), colour.copy()
    with_van[place] = 1.6 + rng.normal(0, 0.1, (15, 20))
    van_colour[place] = rng.normal(0.09, 0.1, (15, 20, 2))  # a tan van
    assert looks_departed(empty, with_van, box, colour, van_colour)
    assert not looks_departed(with_van, empty, box, van_colour, colour)  # it arrived
    roof = colour.copy()
    roof[place] = rng.normal(-0.5, 0.05, (15, 20, 2))
    assert not looks_departed(empty, with_van, box, roof, van_colour)
    # bare ground, more even than the ground around it, where an excavator of about its
    # tint now digs: the reference showed nothing standing there, nothing left
    bare = empty.copy()
    bare[place] = rng.normal(0.25, 0.1, (15, 20))
    assert not looks_departed(empty, bare, box, colour, colour)


def test_more_work_at_night_on_a_structure_confirmed_by_day_is_not_its_demolition() -> None:
    """A slow build confirmed by day (its look before known by day only) goes on through
    an infrared night whose reference learnt it after the confirmation: the night's
    changes there are more work, not the place turning back to what it was."""
    shape, box = (60, 80), (20, 20, 50, 40)
    rng = np.random.default_rng(3)
    tracker = Tracker()
    built = Track(1, "yard", box, 0.0, 0.0, 0.0, state=TrackState.CONFIRMED, confirmed_at=0.0)
    built.before = {LightMode.DAY: np.zeros((20, 30), np.float32)}
    tracker.tracks.append(built)
    changed = np.zeros(shape, bool)
    changed[20:40, 20:50] = True  # the place changed again, in infrared
    for k in range(1, 30):
        norm = rng.normal(0, 1, shape).astype(np.float32)
        visible = np.ones(shape, bool)
        tracker.observe(
            Observation(
                600.0 * k, k, LightMode.INFRARED, norm, norm * 0, changed, visible, visible, []
            )
        )
    assert built.gone_since is None and tracker.gone_due({"yard": 7200.0}, 600.0 * 30) == []


@pytest.mark.parametrize("known_by_day", [True, False])
def test_a_build_confirmed_at_dusk_by_its_look_keeps_its_place_from_before_by_day(
    known_by_day: bool,
) -> None:
    """A slow build confirmed in the first infrared sample of the night, where the new
    infrared reference does not know its place, has its look from before in the day
    reference. Kept, the night's changes as the work goes on are not taken for its
    demolition; without any look from before, each new course would be."""
    shape, box = (60, 80), (20, 20, 50, 40)
    rng = np.random.default_rng(6)
    ground = rng.normal(0, 1, shape).astype(np.float32)
    ir, nowhere, visible = LightMode.INFRARED, np.zeros(shape, bool), np.ones(shape, bool)
    changed = np.zeros(shape, bool)
    changed[20:40, 20:50] = True
    tracker = Tracker()
    built = Track(1, "yard", box, 0.0, 0.0, 0.0)
    tracker.tracks.append(built)
    dusk = Observation(0.0, 0, ir, ground, ground, changed, nowhere, visible, [])
    tracker.mark_confirmed(built, dusk, None, {LightMode.DAY: ground} if known_by_day else None)
    assert list(built.before) == ([LightMode.DAY] if known_by_day else [])
    for k in range(1, 8):
        work = rng.normal(0, 1, shape).astype(np.float32)  # another course every sample
        obs = Observation(600.0 * k, k, ir, work, work * 0, changed, visible, visible, [])
        tracker.observe(obs)
    assert (built.gone_since is None) is known_by_day


def test_a_demolition_is_timed_through_a_sample_that_looks_like_neither() -> None:
    """A shed confirmed, then taken down: its place looks as before from then on, but for
    one sample that looks like neither (a cloud's shadow, people over it). That sample
    cannot tell, so the place has still looked as before since the demolition; a sample
    that looks as the shed did when confirmed means it still stands."""
    shape, box = (60, 80), (20, 20, 50, 40)
    rng = np.random.default_rng(4)
    ground, shed, other = (rng.normal(0, 1, shape).astype(np.float32) for _ in range(3))
    tracker = Tracker()
    built = Track(1, "yard", box, 0.0, 0.0, 0.0, state=TrackState.CONFIRMED, confirmed_at=0.0)
    built.before = {LightMode.DAY: built.crop(ground).copy()}
    built.templates = {LightMode.DAY: built.crop(shed).copy()}
    tracker.tracks.append(built)
    changed = np.zeros(shape, bool)
    changed[20:40, 20:50] = True  # unlike the reference, which took the shed in
    visible = np.ones(shape, bool)

    def sample(k: int, look: np.ndarray) -> None:
        norm = look + rng.normal(0, 0.05, shape).astype(np.float32)
        obs = Observation(600.0 * k, k, LightMode.DAY, norm, shed, changed, visible, visible, [])
        tracker.observe(obs)

    confirm = {"yard": 3600.0}
    for k in range(1, 6):
        sample(k, ground)
    sample(6, other)  # like neither
    assert built.gone_since == 600.0
    sample(7, ground)
    assert tracker.gone_due(confirm, 600.0 * 7) == [built]  # an hour since it came down
    sample(8, shed)  # the shed as confirmed: it stands after all
    assert built.gone_since is None and tracker.gone_due(confirm, 600.0 * 8) == []


def test_without_a_look_from_before_a_place_that_keeps_its_texture_is_not_gone() -> None:
    """A build confirmed where no reference knew the place before has no look from
    before. At dawn the infrared reference no longer fits and most of its box reads as
    changed; it still shows the structure's own texture, so it has not gone. A place
    that lost that texture has."""
    shape, box = (60, 80), (20, 20, 50, 40)
    rng = np.random.default_rng(5)
    built_look, cleared = (rng.normal(0, 1, shape).astype(np.float32) for _ in range(2))
    ir = LightMode.INFRARED
    tracker = Tracker()
    built = Track(1, "yard", box, 0.0, 0.0, 0.0, state=TrackState.CONFIRMED, confirmed_at=0.0)
    built.templates = {ir: built.crop(built_look).copy()}
    tracker.tracks.append(built)
    changed = np.zeros(shape, bool)
    changed[20:40, 20:50] = True
    visible = np.ones(shape, bool)
    for k, look in enumerate([built_look] * 3 + [cleared], start=1):
        norm = look + rng.normal(0, 0.05, shape).astype(np.float32)
        tracker.observe(
            Observation(600.0 * k, k, ir, norm, norm * 0, changed, visible, visible, [])
        )
        assert built.gone_since == (None if k < 4 else 2400.0)


def test_a_change_seen_only_in_unlike_light_needs_a_few_samples_in_like_light() -> None:
    """Windows lit at dusk on a facade stay changed all night, in light unlike the
    reference's; at dawn the first day sample is lit like the day reference and the
    windows are still on. One such sample must not confirm what has stood for hours
    unmatched: a few must see it."""
    shape, box = (60, 80), (20, 20, 50, 40)
    rng = np.random.default_rng(6)
    changed = np.zeros(shape, bool)
    changed[20:40, 20:50] = True
    visible = np.ones(shape, bool)
    tracker = Tracker()

    def sample(k: int, like: bool) -> list[Track]:
        norm = rng.normal(0, 1, shape).astype(np.float32)
        mode = LightMode.DAY if like else LightMode.INFRARED
        regions = [(box, "yard", 2.0)]
        t = 600.0 * k
        obs = Observation(t, k, mode, norm, norm, changed, visible, visible, regions)
        tracker.observe(dataclasses.replace(obs, light_like=like))
        return tracker.confirm_due({"yard": 3600.0}, t)

    assert all(sample(k, like=False) == [] for k in range(20))  # all night, unmatched
    due = [sample(20 + k, like=True) for k in range(MATCHED_SAMPLES)]
    assert due[:-1] == [[]] * (MATCHED_SAMPLES - 1) and len(due[-1]) == 1


def test_a_candidate_on_the_place_of_a_confirmed_structure_is_never_reported_again() -> None:
    """In the sample a pile was confirmed, a candidate started on the same place (the
    pile's track then counted as light, so the region started its own); an hour later it
    is due, and it is the pile: dropped, not a second report."""
    shape, box = (60, 80), (20, 20, 50, 40)
    tracker = Tracker()
    pile = Track(1, "yard", box, 0.0, 0.0, 0.0, state=TrackState.CONFIRMED, confirmed_at=0.0)
    again = Track(2, "yard", (19, 19, 49, 41), 0.0, 4000.0, 0.0, matched=MATCHED_SAMPLES)
    tracker.tracks += [pile, again]
    norm = np.zeros(shape, np.float32)
    changed = np.zeros(shape, bool)
    changed[19:41, 19:49] = True
    visible = np.ones(shape, bool)
    obs = Observation(4000.0, 14, LightMode.DAY, norm, norm, changed, visible, visible, [])
    tracker.observe(obs)
    assert tracker.seen_now(again)
    assert tracker.confirm_due({"yard": 3600.0}, 4000.0) == []
    assert tracker.tracks == [pile]


def test_candidates_are_not_merged_in_unsteady_light() -> None:
    """At dusk a window lit beside a finished extension must not join it (and restart its
    clock); in steady light parts that touch are one candidate."""
    shape = (60, 80)
    flat = np.zeros(shape, np.float32)
    for steady in (False, True):
        tracker = Tracker()
        built = Track(1, "yard", (10, 20, 30, 40), 0.0, 0.0, 0.0)
        lamp = Track(2, "yard", (36, 20, 44, 30), 3000.0, 3000.0, 3000.0)
        tracker.tracks += [built, lamp]
        changed = np.zeros(shape, bool)
        changed[20:40, 10:44] = True
        region = ((28, 20, 38, 30), "yard", 2.0)  # between the two, touching both
        seen = np.ones(shape, bool)
        obs = Observation(3600.0, 12, LightMode.DAY, flat, flat, changed, seen, seen, [region])
        tracker.observe(dataclasses.replace(obs, light_ok=steady))
        assert (lamp in tracker.tracks) is not steady
        assert built.stable_since == (3000.0 if steady else 0.0)

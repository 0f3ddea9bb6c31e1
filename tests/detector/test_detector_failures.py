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
from detector.tracking import Tracker
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
    states = [guard.check_frame(prepare(f, 96)) for f in live + [live[0]] * 3]
    assert states == [ViewState.OK, ViewState.OK, ViewState.FROZEN, ViewState.FROZEN]
    with pytest.raises(ValueError, match="reaim_after"):
        ViewGuard("cam", reaim_after=0.0)


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

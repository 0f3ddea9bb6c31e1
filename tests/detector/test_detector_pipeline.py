"""CameraPipeline on rendered scene frames: warm-up, zone overrides, restart from disk."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detector.change import threshold_for
from detector.pipeline import CameraPipeline
from detector.reporting import DATA_KEYS, event_json
from detector.settings import DetectorSettings, ZoneOverrides
from detector.zonemaps import ZoneMaps
from geofence import Mask, Zone, ZoneSet
from sitewatch.evaluation import pipeline_for
from synth.scene import render
from synth.suite import get_scenario

STEP = 5  # one sample per keyframe of the suite's videos (5 scene minutes)


@pytest.fixture(scope="module")
def zone_day() -> list[tuple[float, np.ndarray]]:
    """(scene time, frame) every STEP frames of the zone_day scene (a shed built in the yard)."""
    sc = get_scenario("zone_day")
    idx = list(range(0, sc.n_frames, STEP))
    return [(i * sc.seconds_per_frame, f) for i, f in zip(idx, render(sc, idx), strict=True)]


def _events(pipe: CameraPipeline, frames: list[tuple[float, np.ndarray]]) -> list[dict]:
    out = []
    for t, frame in frames:
        out.extend(event_json(pipe.process(frame, t, wall=1_800_000_000.0 + t)))
    return out


def test_shed_is_confirmed_once_with_a_full_record(
    zone_day: list[tuple[float, np.ndarray]],
) -> None:
    sc = get_scenario("zone_day")
    events = _events(pipeline_for(sc), zone_day)
    assert [e["event"] for e in events] == ["confirmed"]
    ev = events[0]
    assert ev["camera"] == sc.name and ev["zone"] == "yard" and ev["unit"] == "南屿镇/旗山村"
    assert ev["label"] == "change" and 0.3 <= ev["score"] <= 1.0
    assert ev["confirmed_s"] - ev["first_seen_s"] >= sc.confirm_after
    assert set(DATA_KEYS) <= set(ev) and ev["frame_size"] == list(sc.size)
    build = sc.builds[0]
    w, h = sc.size
    truth = np.array(build.box) * [w, h, w, h]
    x1, y1, x2, y2 = ev["bbox"]
    ix = max(0.0, min(x2, truth[2]) - max(x1, truth[0]))
    iy = max(0.0, min(y2, truth[3]) - max(y1, truth[1]))
    union = (x2 - x1) * (y2 - y1) + (truth[2] - truth[0]) * (truth[3] - truth[1]) - ix * iy
    assert ix * iy / union > 0.5


def test_nothing_is_reported_during_warmup(zone_day: list[tuple[float, np.ndarray]]) -> None:
    sc = get_scenario("zone_day")
    pipe = pipeline_for(sc, settings=DetectorSettings(warmup_samples=10))
    for k, (t, frame) in enumerate(zone_day[:10]):
        assert len(pipe.process(frame, t)) == 0
        assert pipe.mode is not None
        assert pipe.cam.refs.get(pipe.mode).ready == (k == 9)


@pytest.mark.parametrize(
    "override",
    [ZoneOverrides(confirm_after=20 * 3600.0), ZoneOverrides(min_area=0.5)],
    ids=["confirm_after", "min_area"],
)
def test_zone_overrides_apply_to_their_zone(
    zone_day: list[tuple[float, np.ndarray]], override: ZoneOverrides
) -> None:
    sc = get_scenario("zone_day")
    pipe = pipeline_for(sc, zone_overrides={"yard": override})
    assert _events(pipe, zone_day) == []


def test_zone_maps_merge_sensitivity_and_masks() -> None:
    zones = [
        Zone("left", "u/a", [(0, 0), (0.5, 0), (0.5, 1), (0, 1)]),
        Zone("right", "u/b", [(0.5, 0), (1, 0), (1, 1), (0.5, 1)]),
    ]
    masks = [Mask([(0.75, 0), (1, 0), (1, 1), (0.75, 1)])]
    zs = ZoneSet(zones, masks, 400, 200)
    base = DetectorSettings(sensitivity=0.5, min_area=0.01)
    maps = ZoneMaps(zs, base, {"right": ZoneOverrides(sensitivity=1.0, min_area=0.05)}, (50, 100))
    assert maps.threshold[25, 10] == pytest.approx(threshold_for(0.5))
    assert maps.threshold[25, 60] == pytest.approx(threshold_for(1.0))
    assert np.isinf(maps.threshold[25, 90])  # masked
    assert not maps.watch[25, 90] and maps.watch[25, 60]
    assert maps.min_area_px == {"left": 50, "right": 250}
    assert maps.settings["right"].confirm_after == base.confirm_after


def test_restart_restores_references_and_known_structures(
    zone_day: list[tuple[float, np.ndarray]], tmp_path: Path
) -> None:
    sc = get_scenario("zone_day")
    first = pipeline_for(sc, reference_dir=tmp_path)
    with first:
        events = _events(first, zone_day)
    assert [e["event"] for e in events] == ["confirmed"]
    assert (tmp_path / sc.name / "day.npz").is_file()
    assert (tmp_path / sc.name / "tracks.json").is_file()

    again = pipeline_for(sc, reference_dir=tmp_path)
    t0 = zone_day[-1][0]
    later = [(t0 + 300.0 * (k + 1), frame) for k, (_, frame) in enumerate(zone_day[-20:])]
    t, frame = later[0]
    again.process(frame, t)
    assert again.mode is not None and again.cam.refs.get(again.mode).ready
    assert _events(again, later[1:]) == []  # the shed is known: it does not fire again
    assert [k.state.value for k in again.tracker.tracks] == ["confirmed"]


def test_constructor_and_frame_errors_name_the_argument() -> None:
    zone = Zone("z", "u", [(0, 0), (1, 0), (1, 1)])
    with pytest.raises(ValueError, match="zones"):
        CameraPipeline("c", [], DetectorSettings())
    with pytest.raises(ValueError, match="save_every"):
        CameraPipeline("c", [zone], DetectorSettings(), save_every=0)
    with pytest.raises(ValueError, match="zone_overrides"):
        CameraPipeline("c", [zone], DetectorSettings(), zone_overrides={"x": ZoneOverrides()})
    pipe = CameraPipeline("c", [zone], DetectorSettings())
    pipe.process(np.zeros((90, 160, 3), np.uint8), 0.0)
    with pytest.raises(ValueError, match="size changed"):
        pipe.process(np.zeros((100, 160, 3), np.uint8), 1.0)


def test_camera_reaimed_relearns_instead_of_reporting(
    zone_day: list[tuple[float, np.ndarray]],
) -> None:
    sc = get_scenario("zone_day")
    other = get_scenario("distractors_only")  # another village edge: the camera was re-aimed
    other_frames = list(render(other, range(0, 200, STEP)))
    pipe = pipeline_for(sc)
    events = _events(pipe, zone_day[:15])
    t0 = zone_day[14][0]
    later = [(t0 + 300.0 * (k + 1), f) for k, f in enumerate(other_frames)]
    events += _events(pipe, later)
    assert events == []
    assert pipe.view.changes == 1
    assert pipe.mode is not None and pipe.cam.refs.get(pipe.mode).ready


def test_demolition_after_a_restart_is_reported_gone(tmp_path: Path) -> None:
    sc = get_scenario("demolished")  # confirmed at about 3 h, demolished at 3.75 h
    idx = list(range(0, sc.n_frames, STEP))
    frames = [(i * sc.seconds_per_frame, f) for i, f in zip(idx, render(sc, idx), strict=True)]
    split = next(k for k, (t, _) in enumerate(frames) if t >= 3.5 * 3600)
    with pipeline_for(sc, reference_dir=tmp_path) as first:
        before = _events(first, frames[:split])
    assert [e["event"] for e in before] == ["confirmed"]
    assert (tmp_path / sc.name / "tracks.npz").is_file()
    with pipeline_for(sc, reference_dir=tmp_path) as again:
        after = _events(again, frames[split:])
    assert [e["event"] for e in after] == ["gone"]
    assert after[0]["first_seen_s"] == before[0]["first_seen_s"]

"""Scenarios: rendering, ground truth, the day/night cycle, camera shifts, the suite."""

from __future__ import annotations

import dataclasses

import cv2
import numpy as np
import pytest

from synth.scene import (
    Build,
    CameraShift,
    Scenario,
    ViewChange,
    ZoneSpec,
    ground_truth,
    render,
)
from synth.suite import get_scenario, standard_suite, suite_names

H = 3600.0
ZONE = ZoneSpec("z", ((0.0, 0.3), (0.6, 0.3), (0.6, 0.75), (0.0, 0.75)))


def _quiet(**changes: object) -> Scenario:
    """A scene without anything moving or noisy, so pixel changes come from the events."""
    base = Scenario(
        name="quiet", size=(320, 180), duration=10.0, seed=4, zones=(ZONE,),
        noise=0.0, wind_sway=0.0, clouds=0.0,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _changed(a: np.ndarray, b: np.ndarray, thresh: int = 12) -> np.ndarray:
    return np.abs(a.astype(int) - b.astype(int)).max(axis=2) > thresh


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(mask)
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def _iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union


def test_render_is_deterministic_per_seed() -> None:
    sc = get_scenario("distractors_only")
    frames = [0, 40, 150]
    a = list(render(sc, frames))
    b = list(render(sc, frames))
    c = list(render(dataclasses.replace(sc, seed=99), frames))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[1], c[1])
    assert ground_truth(sc) == ground_truth(sc)


@pytest.mark.parametrize("cls", ["steel_roof_shed", "scaffolding", "construction_machinery"])
def test_truth_box_is_where_pixels_changed_at_night(cls: str) -> None:
    # infrared night: no sun, so no cast shadows; the change is the structure itself
    build = Build(cls, (0.15, 0.35, 0.4, 0.7), start_s=10 * 60.0, build_s=30 * 60.0)
    sc = _quiet(start_hour=23.0, events=(build,))
    gt = ground_truth(sc).structures[0]
    before, after = render(sc, [5, 60])
    changed = _changed(before, after)
    assert _iou(_bbox(changed), gt.bbox) > 0.85
    x1, y1, x2, y2 = gt.bbox
    assert changed[y1:y2, x1:x2].mean() > 0.2
    assert gt.zone == "z" and gt.expected_report
    assert gt.complete_video_s == pytest.approx(40 * 60.0 / sc.speed)


def test_truth_box_by_day_holds_the_change_but_its_shadow() -> None:
    build = Build("steel_roof_shed", (0.6, 0.35, 0.85, 0.7), start_s=10 * 60.0, build_s=30 * 60.0)
    sc = _quiet(start_hour=11.0, events=(build,))
    gt = ground_truth(sc).structures[0]
    before, after = render(sc, [5, 60])
    changed = _changed(before, after)
    x1, y1, x2, y2 = gt.bbox
    assert changed[y1:y2, x1:x2].mean() > 0.5
    cx1, cy1, cx2, cy2 = _bbox(changed)
    h = y2 - y1
    assert cx1 >= x1 - 0.7 * h and cx2 <= x2 + 0.7 * h and cy1 >= y1 - 1 and cy2 <= y2 + 0.5 * h
    assert not gt.inside_zone and not gt.expected_report  # mostly right of the zone


def test_demolished_structure_leaves_the_ground_as_it_was() -> None:
    build = Build("building_materials", (0.2, 0.5, 0.4, 0.7), 600.0, 600.0, demolish_s=3000.0)
    sc = _quiet(start_hour=23.0, events=(build,))
    before, built, gone = render(sc, [5, 30, 60])
    assert _changed(before, built).sum() > 200
    assert not _changed(before, gone, 2).any()
    assert ground_truth(sc).structures[0].demolish_video_s == pytest.approx(3000.0 / sc.speed)


def test_night_is_darker_and_infrared_is_gray() -> None:
    day = next(render(_quiet(start_hour=12.0), [0]))
    colour_night = next(render(_quiet(start_hour=23.0, ir_night=False), [0]))
    ir_night = next(render(_quiet(start_hour=23.0), [0]))
    assert colour_night.mean() < 0.6 * day.mean()
    spread = np.abs(day[..., 0].astype(int) - day[..., 2].astype(int)).mean()
    assert spread > 8, "day frames have colour"
    assert np.array_equal(ir_night[..., 0], ir_night[..., 1])
    assert np.array_equal(ir_night[..., 1], ir_night[..., 2])
    sc = get_scenario("dusk_ir_night")
    ((ir_start, _ir_end),) = ground_truth(sc).ir_periods
    assert 18 < sc.start_hour + ir_start / H < 20
    frame = next(render(sc, [int(ir_start / sc.seconds_per_frame) + 2]))
    assert np.abs(frame[..., 0].astype(int) - frame[..., 2].astype(int)).max() == 0


def test_camera_shift_moves_the_image_by_its_pixels() -> None:
    sc = _quiet(size=(480, 270), events=(CameraShift(30 * 60.0, 4 / 480, 3 / 480),))
    a, b = (f.astype(np.float32).mean(axis=2) for f in render(sc, [29, 31]))
    (dx, dy), _ = cv2.phaseCorrelate(a, b)
    assert dx == pytest.approx(4.0, abs=0.3) and dy == pytest.approx(3.0, abs=0.3)
    shifted = dataclasses.replace(
        sc, events=(*sc.events, Build("scaffolding", (0.1, 0.3, 0.3, 0.7), 40 * 60.0, 600.0))
    )
    s = ground_truth(shifted).structures[0]
    assert s.bbox[0] - s.bbox_first_view[0] == 4 and s.bbox[1] - s.bbox_first_view[1] == 3


def test_suite_covers_the_detector_issue() -> None:
    suite = {sc.name: sc for sc in standard_suite()}
    assert len(suite) == len(suite_names()) >= 8
    truth = {name: ground_truth(sc) for name, sc in suite.items()}
    assert [s.expected_report for s in truth["zone_day"].structures] == [True]
    assert [s.inside_zone for s in truth["outside_zone"].structures] == [False]
    assert [(s.inside_zone, s.masked) for s in truth["under_mask"].structures] == [(True, True)]
    night = truth["dusk_ir_night"]
    assert night.ir_periods and night.structures[0].complete_scene_s <= night.ir_periods[0][0]
    assert night.structures[0].expected_report
    shift = truth["camera_shift"]
    assert len(shift.expected) == 2 and len(shift.camera_shifts) == 1
    assert shift.structures[0].complete_scene_s < shift.camera_shifts[0]["at_scene_s"]
    assert shift.structures[1].start_scene_s > shift.camera_shifts[0]["at_scene_s"]
    (van,) = truth["parked_vehicle"].vehicles
    assert van.zone == "forecourt" and van.leave_scene_s - van.arrive_scene_s >= 2 * H
    assert not truth["parked_vehicle"].structures and not truth["distractors_only"].structures
    quiet = suite["distractors_only"]
    assert quiet.walkers_per_hour > 0 and quiet.traffic_per_hour > 0 and quiet.clouds > 0
    assert truth["demolished"].structures[0].demolish_scene_s is not None
    for name, t in truth.items():
        for s in t.expected:  # confirmable before the video ends
            assert (
                s.complete_scene_s + t.confirm_after_scene_s
                < 0.9 * t.n_frames * t.seconds_per_frame
            ), name
    big = get_scenario("zone_day", (1920, 1080))
    assert big.size == (1920, 1080) and ground_truth(big).structures[0].bbox[2] > 700
    with pytest.raises(KeyError, match="no scenario 'nope'"):
        get_scenario("nope")


def test_scenario_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="size must be even"):
        Scenario(name="x", size=(321, 180))
    with pytest.raises(ValueError, match="box must be"):
        Build("scaffolding", (0.5, 0.5, 0.4, 0.6), 0.0)
    with pytest.raises(ValueError, match="demolish_s must come after completion"):
        Build("scaffolding", (0.1, 0.1, 0.4, 0.6), 0.0, 100.0, demolish_s=50.0)


def test_passing_cars_have_headlights_at_night() -> None:
    from synth.renderer import Renderer

    sc = _quiet(start_hour=21.0, traffic_per_hour=600.0, road_y=0.8)
    r = Renderer(sc)
    frame_i, car = next(
        (i, a)
        for i in range(sc.n_frames)
        for a in r.actors_at(sc.scene_time(i))
        if a.lights_on and 60 < a.x - r.m < sc.size[0] - 60
    )
    lit = r.frame(frame_i)
    dark = Renderer(dataclasses.replace(sc, traffic_per_hour=0.0)).frame(frame_i)
    assert r.light(frame_i).ir
    x, y = round(car.x - r.m), round(car.y - r.m)
    win = (slice(max(0, y - 20), y + 5), slice(max(0, x - 60), x + 60))
    assert lit[win].max() >= 240 > dark[win].max()


def test_view_changes_render_what_a_camera_sends_when_it_looks_elsewhere() -> None:
    sc = get_scenario("lens_covered")  # covered 2.25–3.25 h, frozen 5–7 h, flash 8–8.1 h
    at = {h: round(h * 3600 / sc.seconds_per_frame) for h in (2.0, 2.5, 5.0, 5.5, 6.5, 8.0)}
    f = dict(zip(at, render(sc, list(at.values())), strict=True))
    assert float(f[2.5].std()) < 6 < float(f[2.0].std())  # a dark, featureless picture
    assert np.array_equal(f[5.5], f[5.0]) and np.array_equal(f[6.5], f[5.0])  # repeated
    assert float(f[8.0].mean()) > 200 > float(f[2.0].mean())  # blown out
    tour = get_scenario("ptz_tour")  # away 2.75–3.17 h, back 2 px to the right
    before, away, back = render(tour, [30, 36, 39])
    assert float(np.abs(away.astype(float) - before).mean()) > 25  # another place
    gray = [cv2.cvtColor(im, cv2.COLOR_BGR2GRAY).astype(np.float32) for im in (before, back)]
    (dx, _), _ = cv2.phaseCorrelate(gray[0], gray[1])
    assert 1.0 < dx < 3.0
    truth = ground_truth(tour)
    assert [v["kind"] for v in truth.view_changes] == ["away"] * 3
    with pytest.raises(ValueError, match="kind"):
        ViewChange(0.0, 10.0, "sideways")


def test_a_moving_sun_swings_the_shadows() -> None:
    sc = get_scenario("shadows_9am")  # from 06:00, the sun moves
    from synth.renderer import Renderer

    r = Renderer(sc)
    morning, noon, evening = (r.sun_dx_at((h - 6.0) * 3600) for h in (8.0, 12.5, 16.5))
    assert morning * evening < 0 and abs(noon) < min(abs(morning), abs(evening))
    still = Renderer(get_scenario("zone_day"))
    assert still.sun_dx_at(0.0) == still.sun_dx_at(8 * 3600.0)

"""The named scenes the detector is tested and benchmarked on.

Every scene is 480×270 at 10 fps with a keyframe every 5 frames, a few hundred
frames long, and compresses hours into seconds (``seconds_per_frame``). Replay a
scene's video with ``--speed scenario.speed`` and ``confirm_after`` from the
scenario (``Scenario.site_config(url)`` writes both into a site config).
Structures start building only after 1.5 h of scene time so that a detector has
warmed up its reference; each scene's ``description`` says what must be reported.
"""

from __future__ import annotations

import dataclasses

from synth.scenario import Build, CameraShift, Park, Scenario, ViewChange, ZoneSpec

H = 3600.0
YARD = ZoneSpec("yard", ((0.03, 0.3), (0.97, 0.3), (0.97, 0.7), (0.03, 0.7)), name="村东空地")
FORECOURT = ZoneSpec(
    "forecourt", ((0.03, 0.55), (0.97, 0.55), (0.97, 0.99), (0.03, 0.99)), name="村口晒场"
)
WEST = ZoneSpec("west", ((0.03, 0.3), (0.5, 0.3), (0.5, 0.72), (0.03, 0.72)), name="村西农田")
BASE = Scenario(
    name="base",
    size=(480, 270),
    fps=10.0,
    seconds_per_frame=60.0,
    duration=30.0,
    start_hour=8.0,
    zones=(YARD,),
    confirm_after=1 * H,
    walkers_per_hour=8.0,
    traffic_per_hour=30.0,
    clouds=0.15,
    gop=5,
)


def _scene(name: str, seed: int, description: str, **changes: object) -> Scenario:
    return dataclasses.replace(BASE, name=name, seed=seed, description=description, **changes)  # type: ignore[arg-type]


def standard_suite() -> list[Scenario]:
    """The detector's test scenes (see each ``description``)."""
    return [*_structure_scenes(), *_distractor_scenes(), *failure_scenes()]


def _structure_scenes() -> list[Scenario]:
    return [
        _scene(
            "zone_day",
            11,
            "A steel-roof shed is built in the yard zone by day: report it once.",
            events=(Build("steel_roof_shed", (0.22, 0.38, 0.42, 0.6), 1.5 * H, 1 * H, seed=1),),
        ),
        _scene(
            "outside_zone",
            12,
            "Scaffolding goes up outside the west zone: report nothing.",
            zones=(WEST,),
            events=(Build("scaffolding", (0.66, 0.3, 0.82, 0.62), 1.5 * H, 1 * H, seed=2),),
        ),
        _scene(
            "under_mask",
            13,
            "Materials are piled in the masked part of the zone: report nothing.",
            masks=(((0.6, 0.3), (0.97, 0.3), (0.97, 0.7), (0.6, 0.7)),),
            events=(
                Build("building_materials", (0.68, 0.48, 0.9, 0.64), 1.5 * H, 0.5 * H, seed=3),
            ),
        ),
        _scene(
            "dusk_ir_night",
            14,
            "An extension is added to a house at dusk; the camera turns infrared at night; "
            "report the extension once.",
            start_hour=14.5,
            seconds_per_frame=120.0,
            confirm_after=2 * H,
            events=(
                Build(
                    "building_extension",
                    (0.3, 0.44, 0.42, 0.62),
                    2.5 * H,
                    1 * H,
                    seed=4,
                    host="right",
                ),
            ),
        ),
        _scene(
            "camera_shift",
            15,
            "A shed is confirmed, the camera is knocked 4 px right and 3 px down, then materials "
            "are piled: report each structure once.",
            duration=42.0,
            events=(
                Build("steel_roof_shed", (0.08, 0.36, 0.28, 0.58), 1.5 * H, 0.75 * H, seed=5),
                CameraShift(3.5 * H, 4 / 480, 3 / 480),
                Build("building_materials", (0.6, 0.46, 0.8, 0.63), 4.0 * H, 0.5 * H, seed=6),
            ),
        ),
    ]


def _distractor_scenes() -> list[Scenario]:
    return [
        _scene(
            "parked_vehicle",
            16,
            "A van parks in the forecourt zone for three hours: report nothing.",
            zones=(FORECOURT,),
            road_y=0.42,
            events=(Park((0.45, 0.93), 1.5 * H, 4.5 * H, kind="van", seed=7),),
        ),
        _scene(
            "distractors_only",
            17,
            "Clouds, walkers, a dog, traffic and wind sway, nothing built: report nothing.",
            walkers_per_hour=40.0,
            traffic_per_hour=120.0,
            animals_per_hour=2.0,
            clouds=0.5,
            wind_sway=0.6,
        ),
        _scene(
            "demolished",
            18,
            "A shed is built, confirmed, then demolished: report it once, then report it gone.",
            events=(
                Build(
                    "steel_roof_shed", (0.55, 0.36, 0.75, 0.6), 1.5 * H, 0.75 * H, 3.75 * H, seed=8
                ),
            ),
        ),
        _scene(
            "machinery_materials",
            19,
            "An excavator arrives and digs while materials are piled nearby: report both.",
            events=(
                Build("construction_machinery", (0.12, 0.42, 0.3, 0.62), 1.5 * H, 1 * H, seed=9),
                Build("building_materials", (0.55, 0.48, 0.8, 0.64), 1.75 * H, 0.75 * H, seed=10),
            ),
        ),
    ]


def failure_scenes() -> list[Scenario]:
    """One scene per failure class met on unseen footage: ghosts (a departure that looks
    like a change), views that are not the camera's own (PTZ tours, re-aiming, a covered
    lens, a frozen recorder, a flash) and late confirmations (moving shadows, a build
    across a night)."""
    return [s for group in failure_classes().values() for s in group]


def failure_classes() -> dict[str, list[Scenario]]:
    """The failure scenes by class: ``ghosts``, ``views`` and ``late``."""
    return {"ghosts": _ghost_scenes(), "views": _view_scenes(), "late": _timing_scenes()}


def _ghost_scenes() -> list[Scenario]:
    return [
        _scene(
            "ghost_van_dusk_ir",
            20,
            "A van parks in the forecourt in the afternoon, stays over dusk and through the "
            "first infrared hours (the night references are learnt while it stands there), "
            "then leaves: report nothing.",
            zones=(FORECOURT,),
            road_y=0.42,
            start_hour=15.0,
            confirm_after=2 * H,
            events=(Park((0.45, 0.93), 1.5 * H, 8.0 * H, kind="van", seed=21),),
            **_lean(600.0, 12 * H),
        ),
        _scene(
            "ghost_van_at_start",
            31,
            "A van already stands in the forecourt when the camera starts (its first "
            "reference is learnt around it) and leaves after three hours: report nothing.",
            zones=(FORECOURT,),
            road_y=0.42,
            events=(Park((0.6, 0.93), 0.0, 3.0 * H, kind="van", seed=32),),
            **_lean(300.0, 7 * H),
        ),
        _scene(
            "ghost_truck_day",
            33,
            "A truck stands in the yard from 09:30 to 15:30, then leaves: report nothing.",
            events=(Park((0.5, 0.66), 1.5 * H, 7.5 * H, kind="truck", seed=34),),
            **_lean(300.0, 8 * H),
        ),
    ]


def _view_scenes() -> list[Scenario]:
    return [
        _scene(
            "ptz_tour",
            22,
            "A PTZ dome turns to another preset for 25 minutes every two hours and comes back "
            "2 px off; a shed is built meanwhile: report the shed once, in time.",
            **_lean(300.0, 8 * H),
            events=(
                Build("steel_roof_shed", (0.3, 0.38, 0.5, 0.6), 1.5 * H, 1 * H, seed=23),
                ViewChange(2.75 * H, 3.17 * H, "away", dx=2 / 480),
                ViewChange(4.75 * H, 5.17 * H, "away", dx=-1 / 480, dy=1 / 480),
                ViewChange(6.75 * H, 7.17 * H, "away"),
            ),
        ),
        _scene(
            "reaimed",
            24,
            "The camera is turned to another place for good after three hours: report "
            "nothing; say once that the view changed and learn the new view.",
            events=(ViewChange(3.0 * H, None, "away"),),
            **_lean(300.0, 8 * H),
        ),
        _scene(
            "lens_covered",
            25,
            "Materials are piled, then the lens is covered for an hour while they are pending, "
            "later the recorder freezes for two hours and a floodlight blinds it once: report "
            "the materials once, in time, and nothing else.",
            **_lean(300.0, 10 * H),
            events=(
                Build("building_materials", (0.3, 0.46, 0.55, 0.64), 1.5 * H, 0.5 * H, seed=26),
                ViewChange(2.25 * H, 3.25 * H, "cover"),
                ViewChange(5.0 * H, 7.0 * H, "freeze"),
                ViewChange(8.0 * H, 8.1 * H, "flash"),
            ),
        ),
    ]


def _timing_scenes() -> list[Scenario]:
    return [
        _scene(
            "shadows_9am",
            27,
            "A shed is completed at 09:00; the sun moves and its shadow swings through the "
            "afternoon: report it once, within confirm_after × 1.25 of completion.",
            start_hour=6.0,
            **_lean(600.0, 11 * H),
            confirm_after=4 * H,
            sun_moves=True,
            events=(Build("steel_roof_shed", (0.4, 0.36, 0.62, 0.6), 1.5 * H, 1.5 * H, seed=28),),
        ),
        _scene(
            "slow_build_night",
            29,
            "An extension is built slowly over 20 hours, across dusk, an infrared night and "
            "dawn: report it once, within confirm_after × 1.25 of completion.",
            start_hour=8.0,
            **_lean(720.0, 28 * H),
            confirm_after=2 * H,
            sun_moves=True,
            events=(
                Build(
                    "building_extension",
                    (0.3, 0.44, 0.42, 0.62),
                    1.5 * H,
                    20 * H,
                    seed=30,
                    host="right",
                ),
            ),
        ),
    ]


def _lean(seconds_per_frame: float, span_s: float) -> dict[str, float | int]:
    """Scene fields for a long scene encoded cheaply: 2 fps, every frame a keyframe (one
    frame per sample), lasting ``span_s`` scene seconds."""
    fps = 2.0
    return {
        "fps": fps,
        "gop": 1,
        "seconds_per_frame": seconds_per_frame,
        "duration": span_s / (seconds_per_frame * fps),
    }


def suite_names() -> list[str]:
    return [s.name for s in standard_suite()]


def get_scenario(name: str, size: tuple[int, int] | None = None) -> Scenario:
    """The suite scene called ``name``, optionally at another frame ``size`` (w, h)."""
    for sc in standard_suite():
        if sc.name == name:
            return sc if size is None else sc.with_size(*size)
    raise KeyError(f"no scenario {name!r}; choose from {', '.join(suite_names())}")

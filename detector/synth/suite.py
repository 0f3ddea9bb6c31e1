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

from detector.synth.scene import Build, CameraShift, Park, Scenario, ZoneSpec

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
    return [*_structure_scenes(), *_distractor_scenes()]


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


def suite_names() -> list[str]:
    return [s.name for s in standard_suite()]


def get_scenario(name: str, size: tuple[int, int] | None = None) -> Scenario:
    """The suite scene called ``name``, optionally at another frame ``size`` (w, h)."""
    for sc in standard_suite():
        if sc.name == name:
            return sc if size is None else sc.with_size(*size)
    raise KeyError(f"no scenario {name!r}; choose from {', '.join(suite_names())}")

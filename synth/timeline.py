"""When and where walkers, traffic and animals pass, drawn once per scenario."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from synth.actors import Trip
from synth.background import World

if TYPE_CHECKING:
    from synth.scenario import Scenario


def make_trips(rng: np.random.Generator, sc: Scenario, world: World) -> list[Trip]:
    """All passers-by of the scenario, in scene seconds (Poisson arrivals per hour)."""
    hours = sc.scene_duration / 3600.0
    trips: list[Trip] = []
    for _ in range(int(rng.poisson(sc.walkers_per_hour * hours))):
        trips.append(_walk(rng, sc, world, "person", 1.3, (15.0, 70.0), linger=0.25))
    for _ in range(int(rng.poisson(sc.animals_per_hour * hours))):
        trips.append(_walk(rng, sc, world, "dog", 1.0, (8.0, 40.0), linger=0.3))
    if world.road is not None:
        for _ in range(int(rng.poisson(sc.traffic_per_hour * hours))):
            trips.append(_drive(rng, sc, world))
    return trips


def _ground_point(rng: np.random.Generator, world: World) -> tuple[float, float]:
    h = world.height
    top = world.horizon + 0.12 * (h - world.horizon)
    return float(rng.uniform(0, world.width)), float(rng.uniform(top, h))


def _walk(
    rng: np.random.Generator,
    sc: Scenario,
    world: World,
    kind: str,
    speed: float,
    dist: tuple[float, float],
    linger: float,
) -> Trip:
    """A walk along a straight line, or (``linger`` of the time) standing about for minutes."""
    t0 = float(rng.uniform(-600.0, sc.scene_duration))
    x, y = _ground_point(rng, world)
    seed = int(rng.integers(0, 2**31))
    scale = world.scale_at(y)
    if rng.random() < linger:
        stay = float(rng.uniform(120.0, 1500.0))
        return Trip(kind, t0, t0 + stay, (x, y), (x + rng.normal(0, scale), y), seed)
    d = float(rng.uniform(*dist))
    ang = float(rng.normal(0.0, 0.45)) + (math.pi if rng.random() < 0.5 else 0.0)
    dx, dy = math.cos(ang) * d * scale, math.sin(ang) * d * scale * 0.5
    return Trip(kind, t0, t0 + d / speed, (x, y), (x + dx, y + dy), seed)


def _drive(rng: np.random.Generator, sc: Scenario, world: World) -> Trip:
    """A vehicle crossing the whole view on the road, in its lane."""
    assert world.road is not None
    kind = str(rng.choice(("car", "car", "car", "van", "truck")))
    direction = 1 if rng.random() < 0.5 else -1
    half = world.road[2]
    w = world.width
    xa, xb = (-0.15 * w, 1.15 * w) if direction > 0 else (1.15 * w, -0.15 * w)
    lane = half * (0.5 if direction > 0 else -0.15)
    ya, yb = world.road_y(xa) + lane, world.road_y(xb) + lane
    scale = world.scale_at((ya + yb) / 2)
    speed = float(rng.uniform(7.0, 15.0)) * scale  # px per second
    t0 = float(rng.uniform(-30.0, sc.scene_duration))
    seed = int(rng.integers(0, 2**31))
    return Trip(kind, t0, t0 + abs(xb - xa) / speed, (xa, ya), (xb, yb), seed)

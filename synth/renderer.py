"""Turns a :class:`~synth.scene.Scenario` into frames and ground truth."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np

from synth import noise as nz
from synth.actors import VEHICLE_KINDS, Trip, actor_sprite
from synth.background import World, add_building, make_world
from synth.compose import compose_frame, covered, flashed, scenario_truth
from synth.light import Light, light_at
from synth.noise import F32, NOISE_SCALE
from synth.pen import Sprite
from synth.scenario import Build, Scenario
from synth.structures import render_structure
from synth.timeline import make_trips
from synth.truth import GroundTruth

STEPS = 24  # build progress is drawn in this many steps


class Actor(NamedTuple):
    """A walker, vehicle or animal in view: sprite, ground point (world pixels), what."""

    sprite: Sprite
    x: float
    y: float
    kind: str
    facing: int
    lights_on: bool


class Renderer:
    """Renders one scenario; static layers are cached between frames."""

    def __init__(self, sc: Scenario) -> None:
        self.sc = sc
        self.steps = STEPS
        self.w, self.h = sc.size
        self.px = self.w / 480.0  # pixel sizes (sway, noise grain) are given for 480 wide
        shift = self._max_shift()
        self.m = m = math.ceil(shift + 2 * sc.wind_sway * self.px + 3)
        rng = np.random.default_rng(sc.seed)
        seeds = [int(s) for s in rng.integers(0, 2**31, size=6)]
        self.sun_dx = float(rng.uniform(0.35, 0.8) * rng.choice((-1.0, 1.0)))
        self.builds = sc.builds
        self.boxes = [self._to_world(b.box) for b in self.builds]
        self.world = self._make_world(seeds[0])
        self.styles = [self._host(i, b, seeds[1] + i) for i, b in enumerate(self.builds)]
        self._sprites: dict[tuple[int, int, float], Sprite] = {}
        self._static_key: tuple[float, ...] | None = None
        self._static: tuple[F32, F32] | None = None
        self.trips = make_trips(np.random.default_rng(seeds[2]), sc, self.world)
        self._trip_sprites: dict[int, Sprite] = {}
        self.parked = [
            (
                p,
                actor_sprite(
                    p.kind,
                    self.world.scale_at(p.at[1] * self.h + m),
                    np.random.default_rng(p.seed + 7),
                    facing=p.facing,
                    sun_dx=self.sun_dx,
                ),
            )
            for p in sc.parked
        ]
        self.clouds = self.cloud_field(np.random.default_rng(seeds[3])) if sc.clouds > 0 else None
        self._noise_seed = seeds[4]
        self._noise: dict[tuple[str, int], np.ndarray] = {}
        self.frame_seed = seeds[5]
        self._sway_phase = (float(rng.uniform(0, 6.28)), float(rng.uniform(0, 6.28)))
        self._elsewhere: Renderer | None = None  # the other preset of a PTZ tour
        self._frozen: dict[int, np.ndarray] = {}

    # --- layout -----------------------------------------------------------------
    def _max_shift(self) -> float:
        dx = dy = 0.0
        worst = 0.0
        for s in self.sc.shifts:
            dx += s.dx * self.w
            dy += s.dy * self.w
            worst = max(worst, abs(dx), abs(dy))
        for v in self.sc.view_changes:
            dx += v.dx * self.w
            dy += v.dy * self.w
            worst = max(worst, abs(dx), abs(dy))
        return worst

    def _to_world(self, box: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
        x1, y1, x2, y2 = box
        m = self.m
        return (
            round(x1 * self.w) + m,
            round(y1 * self.h) + m,
            round(x2 * self.w) + m,
            round(y2 * self.h) + m,
        )

    def _host_box(self, i: int, b: Build) -> tuple[float, float, float, float] | None:
        if b.host is None:
            return None
        x1, y1, x2, y2 = self.boxes[i]
        hw = (x2 - x1) * 1.6
        top = y1 - (y2 - y1) * 0.35
        return (x2, top, x2 + hw, y2) if b.host == "right" else (x1 - hw, top, x1, y2)

    def _make_world(self, seed: int) -> World:
        sc, m = self.sc, self.m
        clear: list[tuple[float, float, float, float]] = []
        for i, b in enumerate(self.builds):
            x1, y1, x2, y2 = self.boxes[i]
            clear.append((x1 - 4, y1 - 4, x2 + 4, y2 + 4))
            hb = self._host_box(i, b)
            if hb is not None:
                clear.append(hb)
        for p in sc.parked:
            x, y = p.at[0] * self.w + m, p.at[1] * self.h + m
            clear.append((x - 0.1 * self.w, y - 0.12 * self.h, x + 0.1 * self.w, y + 4))
        road_y = None if sc.road_y is None else (sc.road_y * self.h + m) / (self.h + 2 * m)
        return make_world(
            np.random.default_rng(seed),
            self.w + 2 * m,
            self.h + 2 * m,
            horizon=sc.horizon,
            road=sc.road_y is not None,
            road_y=road_y,
            keep_clear=clear,
            sun_dx=self.sun_dx,
        )

    def _host(self, i: int, b: Build, seed: int) -> dict[str, object]:
        """Draw the house an extension is added to; the extension copies its wall colour."""
        hb = self._host_box(i, b)
        if hb is None:
            return {}
        x1, top, x2, y2 = hb
        sc = self.world.scale_at(y2)
        storeys = max(1, math.ceil((y2 - top) / (3.0 * sc)))
        _, wall = add_building(
            np.random.default_rng(seed),
            self.world,
            x1=x1,
            y_base=y2,
            width=x2 - x1,
            storeys=storeys,
        )
        return {"wall_color": wall}

    def cloud_field(self, rng: np.random.Generator) -> F32:
        h, w = self.world.height, self.world.width
        n = nz.value_noise(rng, 2 * h, 2 * w, w / 2.5, 3)
        thr = float(np.quantile(n, 1.0 - self.sc.clouds))
        return np.asarray(np.clip((n - thr) * 3.0, 0.0, 1.0), np.float32)

    # --- per frame ----------------------------------------------------------------
    def sun_dx_at(self, t: float) -> float:
        """Sideways shadow length at scene time ``t``: fixed, or (``sun_moves``) swinging
        from one side in the morning to the other in the afternoon, in half-hour steps."""
        if not self.sc.sun_moves:
            return self.sun_dx
        hour = math.floor((self.sc.start_hour + t / 3600.0) * 2.0) / 2.0
        x = float(np.clip((hour - 12.25) / 6.25, -1.0, 1.0))
        side = 1.0 if self.sun_dx > 0 else -1.0
        return side * math.copysign(0.15 + 0.75 * abs(x), x)

    def sprite(self, i: int, step: int, sun_dx: float | None = None) -> Sprite:
        sun = self.sun_dx if sun_dx is None else sun_dx
        key = (i, step, sun)
        if key not in self._sprites:
            b = self.builds[i]
            x1, y1, x2, y2 = self.boxes[i]
            rng = np.random.default_rng([self.sc.seed, b.seed, i])
            self._sprites[key] = render_structure(
                b.cls,
                x2 - x1,
                y2 - y1,
                rng,
                progress=step / STEPS,
                sun_dx=sun,
                style=self.styles[i],
            )
        return self._sprites[key]

    def static_layers(self, t: float) -> tuple[F32, F32]:
        """World albedo with the structures as they stand at ``t``, and their shadows."""
        sun = self.sun_dx_at(t)
        key = (sun,) + tuple(
            -1 if (p := b.progress(t)) is None else math.floor(p * STEPS) for b in self.builds
        )
        if key != self._static_key or self._static is None:
            albedo = self.world.albedo.copy()
            assert self.world.shade is not None
            sunlit = self.world.shade.copy()
            order = sorted(range(len(self.builds)), key=lambda j: self.boxes[j][3])
            for j in order:
                step = int(key[j + 1])
                if step > 0:
                    sp = self.sprite(j, step, sun)
                    self.paste_sprite(albedo, sunlit, sp, self.boxes[j][0], self.boxes[j][1])
            self._static_key, self._static = key, (albedo, sunlit)
        return self._static

    @staticmethod
    def paste_sprite(albedo: F32, sunlit: F32, sp: Sprite, x: int, y: int) -> None:
        nz.multiply(sunlit, 1.0 - 0.9 * sp.shadow, x - sp.pad, y - sp.pad)
        nz.paste(albedo, sp.rgb, sp.alpha, x - sp.pad, y - sp.pad)

    def actors_at(self, t: float) -> list[Actor]:
        """Everything movable in view at ``t`` (world pixels), far to near."""
        out: list[Actor] = []
        for p, sp in self.parked:
            if p.arrive_s <= t < p.leave_s:
                x, y = p.at[0] * self.w + self.m, p.at[1] * self.h + self.m
                out.append(Actor(sp, x, y, p.kind, p.facing, False))
        for k, trip in enumerate(self.trips):
            pos = trip.at(t)
            if pos is not None:
                facing = 1 if trip.p1[0] >= trip.p0[0] else -1
                driving = trip.kind in VEHICLE_KINDS
                out.append(
                    Actor(self._trip_sprite(k, trip), pos[0], pos[1], trip.kind, facing, driving)
                )
        return sorted(out, key=lambda a: a.y)

    def _trip_sprite(self, k: int, trip: Trip) -> Sprite:
        if k not in self._trip_sprites:
            facing = 1 if trip.p1[0] >= trip.p0[0] else -1
            scale = self.world.scale_at(trip.p0[1])
            self._trip_sprites[k] = actor_sprite(
                trip.kind,
                scale,
                np.random.default_rng(trip.seed),
                facing=facing,
                sun_dx=self.sun_dx,
            )
        return self._trip_sprites[k]

    def noise_gray(self, k: int) -> np.ndarray:
        """Noise frame ``k`` for infrared frames (one channel)."""
        key = ("gray", k)
        if key not in self._noise:
            rng = np.random.default_rng([self._noise_seed, k])
            g = rng.standard_normal((self.h, self.w), dtype=np.float32) * np.float32(NOISE_SCALE)
            self._noise[key] = g.astype(np.int16)
        return self._noise[key]

    def noise_colour(self, k: int) -> np.ndarray:
        """Noise frame ``k`` for colour frames: shared luma grain plus some chroma."""
        key = ("colour", k)
        if key not in self._noise:
            rng = np.random.default_rng([self._noise_seed, k, 1])
            chroma = rng.standard_normal((self.h, self.w, 3), dtype=np.float32) * np.float32(0.4)
            luma = self.noise_gray(k).astype(np.float32) / np.float32(NOISE_SCALE)
            both = (chroma + luma[..., None]) * np.float32(NOISE_SCALE)
            self._noise[key] = both.astype(np.int16)
        return self._noise[key]

    def content_shift(self, t: float, *, sway: bool = True) -> tuple[float, float]:
        """How far (pixels) the image content has moved at ``t``: camera shifts + wind sway."""
        dx = sum(s.dx * self.w for s in self.sc.shifts if s.at_s <= t)
        dy = sum(s.dy * self.w for s in self.sc.shifts if s.at_s <= t)
        back = [v for v in self.sc.view_changes if v.end_s is not None and v.end_s <= t]
        dx += sum(v.dx * self.w for v in back)  # a preset returns a few pixels off
        dy += sum(v.dy * self.w for v in back)
        if sway and self.sc.wind_sway > 0:
            a = self.sc.wind_sway * self.px
            dx += a * math.sin(t * 2 * math.pi / 7.3 + self._sway_phase[0])
            dy += 0.6 * a * math.sin(t * 2 * math.pi / 11.1 + self._sway_phase[1])
        return dx, dy

    def light(self, i: int) -> Light:
        return light_at(self.sc.hour(i), ir_night=self.sc.ir_night)

    def frame(self, i: int) -> np.ndarray:
        """Frame ``i`` as BGR uint8 (what the camera sends: its view, or not; see ViewChange)."""
        view = self.sc.view_at(self.sc.scene_time(i))
        if view is None:
            return compose_frame(self, i)
        if view.kind == "away":
            return self.elsewhere().frame(i)
        if view.kind == "freeze":
            first = math.ceil(view.start_s / self.sc.seconds_per_frame)
            if first not in self._frozen:
                self._frozen = {first: compose_frame(self, first)}
            return self._frozen[first].copy()
        if view.kind == "cover":
            return covered(self, i)
        return flashed(compose_frame(self, i))

    def elsewhere(self) -> Renderer:
        """The other preset of a PTZ tour: another place, same hour, same weather."""
        if self._elsewhere is None:
            other = dataclasses.replace(
                self.sc, name=self.sc.name + "-elsewhere", seed=self.sc.seed + 7919, events=()
            )
            self._elsewhere = Renderer(other)
        return self._elsewhere

    def truth(self) -> GroundTruth:
        return scenario_truth(self)


def render(scenario: Scenario, frames: Sequence[int] | None = None) -> Iterator[np.ndarray]:
    """The scenario's frames (BGR uint8), all of them or the given frame indices."""
    r = Renderer(scenario)
    for i in range(scenario.n_frames) if frames is None else frames:
        yield r.frame(int(i))


def ground_truth(scenario: Scenario) -> GroundTruth:
    """What :func:`render` will show, without rendering the frames."""
    return Renderer(scenario).truth()

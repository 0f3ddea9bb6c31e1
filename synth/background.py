"""The world a camera looks at: sky, textured ground, a road, buildings, trees, lamps.

Everything is albedo (BGR 0..1) plus an emissive layer for lit windows and lamps,
so one :class:`World` can be lit at any hour by :func:`synth.light.apply_light`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from synth import noise as nz
from synth.noise import F32
from synth.pen import cast_shadow

GRASS = ("#5f7a3a", "#6b8540", "#55703a", "#74894a")
SOIL = ("#7b6549", "#8a7254", "#6e5a43")
CONCRETE = ("#a3a09a", "#b1ada5", "#96948f")
ROOFS = ("#8c3b2e", "#6f6f72", "#4e5a66", "#9a5b3c", "#5b6e7c")
WALLS = ("#e8e2d6", "#d9d4c9", "#cfc6b5", "#e6d3c3", "#bfbfbd", "#c9b9a0")


@dataclass
class World:
    """Albedo, sky and emissive layers of a static view, and what is where in it."""

    albedo: F32
    sky: F32
    emissive: F32
    horizon: int
    road: tuple[float, float, float] | None  # y at x=0, y at x=W, half width (px)
    buildings: list[tuple[tuple[int, int, int, int], tuple[float, float, float]]] = field(
        default_factory=list
    )
    keep_clear: list[tuple[float, float, float, float]] = field(default_factory=list)
    shade: F32 | None = None  # (H, W) share of direct sun reaching the ground: cast shadows
    sun_dx: float = 0.6  # sideways shadow length per unit of height

    def __post_init__(self) -> None:
        if self.shade is None:
            self.shade = np.ones(self.albedo.shape[:2], np.float32)

    def cast(self, silhouette: list[list[tuple[float, float]]], base_y: float) -> None:
        """Darken the sun on the ground behind ``silhouette`` polygons standing on ``base_y``."""
        assert self.shade is not None
        pts = np.concatenate([np.asarray(p, np.float32) for p in silhouette])
        height = base_y - float(pts[:, 1].min())
        pad = int(abs(self.sun_dx) * height) + 3
        x0, y0 = int(pts[:, 0].min()) - pad, int(pts[:, 1].min()) - 2
        w, h = int(pts[:, 0].max()) + pad - x0, int(base_y) + pad - y0
        alpha = np.zeros((h, w), np.float32)
        for p in silhouette:
            nz.poly(alpha, [(x - x0, y - y0) for x, y in p], (1.0,))
        shadow = cast_shadow(alpha, base_y - y0, self.sun_dx)
        nz.multiply(self.shade, 1.0 - 0.9 * shadow, x0, y0)

    def is_clear(self, box: tuple[float, float, float, float]) -> bool:
        """True when ``box`` overlaps none of the areas kept free for structures."""
        x1, y1, x2, y2 = box
        return all(x2 <= a or x1 >= c or y2 <= b or y1 >= d for a, b, c, d in self.keep_clear)

    @property
    def height(self) -> int:
        return int(self.albedo.shape[0])

    @property
    def width(self) -> int:
        return int(self.albedo.shape[1])

    def scale_at(self, y: float) -> float:
        """Pixels per metre at row ``y``: things far up the frame look smaller."""
        h = self.height
        t = float(np.clip((y - self.horizon) / max(1.0, h - self.horizon), 0.0, 1.0))
        return h / 270.0 * (2.5 + 9.5 * t)

    def road_y(self, x: float) -> float:
        assert self.road is not None
        y0, y1, _ = self.road
        return y0 + (y1 - y0) * x / max(1, self.width)


def make_world(
    rng: np.random.Generator,
    width: int,
    height: int,
    *,
    horizon: float | None = None,
    road: bool | None = None,
    road_y: float | None = None,
    n_buildings: int | None = None,
    n_trees: int | None = None,
    keep_clear: list[tuple[float, float, float, float]] | None = None,
    sun_dx: float = 0.6,
) -> World:
    """A random village-edge view ``width`` × ``height`` (all choices from ``rng``).

    Random buildings and trees stay out of the ``keep_clear`` boxes (pixels).
    """
    hz = int(height * (rng.choice((0.0, rng.uniform(0.08, 0.25))) if horizon is None else horizon))
    albedo = _ground(rng, width, height)
    sky = np.zeros((height, width), np.float32)
    emissive = np.zeros((height, width, 3), np.float32)
    if hz > 0:
        sky[:hz] = 1.0
        _treeline(rng, albedo, sky, hz)
    world = World(albedo, sky, emissive, hz, None, keep_clear=list(keep_clear or []), sun_dx=sun_dx)
    if road if road is not None else rng.random() < 0.8:
        _road(rng, world, road_y)
    nb = int(rng.integers(1, 4)) if n_buildings is None else n_buildings
    for _ in range(nb):
        _building(rng, world)
    nt = int(rng.integers(2, 8)) if n_trees is None else n_trees
    for _ in range(nt):
        _tree(rng, world)
    if world.road is not None and rng.random() < 0.7:
        _lamp(rng, world)
    return world


def _ground(rng: np.random.Generator, w: int, h: int) -> F32:
    """Grass with soil patches and a concrete yard, each with its own grain."""
    grass = np.asarray(nz.jitter(rng, nz.color(str(rng.choice(GRASS)))), np.float32)
    soil = np.asarray(nz.jitter(rng, nz.color(str(rng.choice(SOIL)))), np.float32)
    conc = np.asarray(nz.jitter(rng, nz.color(str(rng.choice(CONCRETE)))), np.float32)
    img = np.empty((h, w, 3), np.float32)
    img[:] = grass
    cell = max(w, h) / rng.uniform(2.5, 5.0)
    n1 = nz.value_noise(rng, h, w, cell, 3)
    soil_m = np.clip((n1 - rng.uniform(-0.1, 0.35)) * 6.0, 0, 1)
    img += soil_m[..., None] * (soil - img)
    n2 = nz.value_noise(rng, h, w, cell * 1.3, 2)
    conc_m = np.clip((n2 - rng.uniform(0.3, 0.6)) * 10.0, 0, 1)
    img += conc_m[..., None] * (conc - img)
    grain = nz.value_noise(rng, h, w, 2.0, 2) * 0.10 + nz.value_noise(rng, h, w, 12.0, 2) * 0.08
    img *= (1.0 + grain)[..., None]
    return np.asarray(np.clip(img, 0, 1), np.float32)


def _treeline(rng: np.random.Generator, albedo: F32, sky: F32, hz: int) -> None:
    h, w = sky.shape
    base = nz.value_noise(rng, 1, w, w / 12.0, 3)[0]
    tops = hz - (3 + (base + 1) * hz * 0.18).astype(np.int32)
    green = np.asarray(nz.color("#3c5a34"), np.float32)
    tex = nz.value_noise(rng, h, w, 3.0, 2)
    for x in range(w):
        t = max(0, int(tops[x]))
        albedo[t : hz + 2, x] = green * (1.0 + 0.15 * tex[t : hz + 2, x, None])
        sky[t : hz + 2, x] = 0.0


def _road(rng: np.random.Generator, world: World, at: float | None) -> None:
    h, w = world.height, world.width
    lo = world.horizon + (h - world.horizon) * 0.35
    tilt = rng.uniform(-0.15, 0.15) * h
    if at is not None:
        y0, y1 = at * h - tilt / 2, at * h + tilt / 2
        half = world.scale_at((y0 + y1) / 2) * rng.uniform(2.6, 3.6)
        world.road = (y0, y1, half)
    else:  # a random road that keeps off the areas kept clear (a few tries, else none)
        for _ in range(8):
            y0 = rng.uniform(lo, h * 0.92)
            y1 = float(np.clip(y0 + tilt, lo, h * 0.92))
            half = world.scale_at((y0 + y1) / 2) * rng.uniform(2.6, 3.6)
            world.road = (y0, y1, half)
            if not _road_hits(world):
                break
        else:
            world.road = None
            return
    asphalt = np.asarray(nz.jitter(rng, nz.color("#55575a")), np.float32)
    pts = [(0, y0 - half), (w, y1 - half), (w, y1 + half), (0, y0 + half)]
    m = np.zeros((h, w), np.float32)
    nz.poly(m, pts, (1.0,))
    tex = 1.0 + 0.08 * nz.value_noise(rng, h, w, 2.0, 2)
    world.albedo += m[..., None] * (asphalt * tex[..., None] - world.albedo)
    edge = nz.color("#d8d8d0")
    for s in (-0.85, 0.85):
        nz.line(world.albedo, (0, y0 + s * half), (w, y1 + s * half), edge, 1)
    dash = max(6, int(w / 30))
    for x in range(0, w, 2 * dash):
        nz.line(world.albedo, (x, world.road_y(x)), (x + dash, world.road_y(x + dash)), edge, 1)


def add_building(
    rng: np.random.Generator,
    world: World,
    *,
    x1: float | None = None,
    y_base: float | None = None,
    width: float | None = None,
    storeys: int | None = None,
) -> tuple[tuple[int, int, int, int], tuple[float, float, float]]:
    """A house (front wall with windows, tiled or flat roof); returns its box and wall colour."""
    _building(rng, world, x1, y_base, width, storeys)
    return world.buildings[-1]


def _building(
    rng: np.random.Generator,
    world: World,
    x1: float | None = None,
    y_base: float | None = None,
    bw: float | None = None,
    storeys: int | None = None,
) -> None:
    h, w = world.height, world.width
    if y_base is None:
        y_base = rng.uniform(world.horizon + 0.12 * h, min(h * 0.7, _below_road(world)))
    sc = world.scale_at(y_base)
    bw = sc * rng.uniform(7, 14) if bw is None else bw
    storeys = int(rng.integers(1, 4)) if storeys is None else storeys
    wall_h = sc * 3.0 * storeys
    if x1 is None:
        for _ in range(12):
            x1 = rng.uniform(-0.1 * bw, w - 0.9 * bw)
            if world.is_clear((x1, y_base - wall_h * 1.4, x1 + bw, y_base)):
                break
        else:
            return
    wall = nz.jitter(rng, nz.color(str(rng.choice(WALLS))), 0.03)
    roof = nz.jitter(rng, nz.color(str(rng.choice(ROOFS))))
    y_top = y_base - wall_h
    body = [(x1, y_top), (x1 + bw, y_top), (x1 + bw, y_base), (x1, y_base)]
    nz.poly(world.albedo, body, wall)
    silhouette = [body]
    if rng.random() < 0.6:
        rh = sc * rng.uniform(1.5, 3.0)
        roof_pts = [
            (x1 - 2, y_top),
            (x1 + bw + 2, y_top),
            (x1 + bw - rh * 0.5, y_top - rh),
            (x1 + rh * 0.5, y_top - rh),
        ]
        silhouette.append(roof_pts)
        nz.poly(world.albedo, roof_pts, roof)
        for y in np.arange(y_top - rh + 2, y_top, 2.0):
            nz.line(world.albedo, (x1, y), (x1 + bw, y), nz.shade(roof, 0.85), 1)
    else:
        nz.rect(world.albedo, x1 - 1, y_top - sc * 0.4, x1 + bw + 1, y_top, nz.shade(wall, 0.85))
    n_win = max(1, int(bw / (sc * 3)))
    for st in range(storeys):
        for i in range(n_win):
            cx = x1 + bw * (i + 0.5) / n_win
            wy = y_base - sc * 3.0 * (st + 1) + sc * 0.9
            win = (cx - sc * 0.6, wy, cx + sc * 0.6, wy + sc * 1.3)
            nz.rect(world.albedo, *win, nz.color("#2b3138"))
            if rng.random() < 0.35:
                nz.rect(world.emissive, *win, nz.color("#ffd27a"))
    world.cast(silhouette, y_base)
    box = (int(x1), int(y_top), int(x1 + bw), int(y_base))
    world.buildings.append((box, wall))
    world.keep_clear.append((box[0], box[1], box[2], box[3]))


def _road_hits(world: World) -> bool:
    """Whether the road runs through the foot of any kept-clear box."""
    assert world.road is not None
    half = world.road[2]
    for x1, y1, x2, y2 in world.keep_clear:
        yr = world.road_y((x1 + x2) / 2)
        if yr - half - 2 < y2 + 2 and yr + half + 2 > y2 - 0.5 * (y2 - y1):
            return True
    return False


def _below_road(world: World) -> float:
    if world.road is None:
        return float(world.height)
    return min(world.road[0], world.road[1]) - world.road[2] * 1.2


def _tree(rng: np.random.Generator, world: World) -> None:
    h, w = world.height, world.width
    y = rng.uniform(world.horizon + 0.05 * h, h * 1.05)
    if world.road is not None and abs(y - world.road_y(w / 2)) < world.road[2] * 2:
        y = min(h * 1.05, y + world.road[2] * 4)
    x = rng.uniform(0, w)
    sc = world.scale_at(y)
    r = sc * rng.uniform(1.5, 3.5)
    trunk_h = r * rng.uniform(0.8, 1.6)
    if not world.is_clear((x - 1.6 * r, y - trunk_h - 1.8 * r, x + 1.6 * r, y + r * 0.3)):
        return
    nz.rect(world.albedo, x - sc * 0.2, y - trunk_h, x + sc * 0.2, y, nz.color("#4a3a2a"))
    leaf = nz.jitter(rng, nz.color(str(rng.choice(("#2f5a2a", "#3b6b2e", "#466f34")))), 0.05)
    cy = y - trunk_h - r * 0.6
    silhouette = [
        [
            (x - sc * 0.2, y - trunk_h),
            (x + sc * 0.2, y - trunk_h),
            (x + sc * 0.2, y),
            (x - sc * 0.2, y),
        ]
    ]
    for _ in range(9):
        ox, oy = rng.normal(0, r * 0.45), rng.normal(0, r * 0.3)
        rr = r * rng.uniform(0.45, 0.75)
        nz.ellipse(
            world.albedo, x + ox, cy + oy, rr, rr * 0.9, nz.shade(leaf, rng.uniform(0.75, 1.2))
        )
        blob = cv2.ellipse2Poly(
            (round(x + ox), round(cy + oy)),
            (max(1, round(rr)), max(1, round(rr * 0.9))),
            0,
            0,
            360,
            30,
        )
        silhouette.append([(float(px), float(py)) for px, py in blob])
    world.cast(silhouette, y)


def _lamp(rng: np.random.Generator, world: World) -> None:
    assert world.road is not None
    x = rng.uniform(0.1, 0.9) * world.width
    y = world.road_y(x) - world.road[2] * 1.3
    sc = world.scale_at(y)
    top = y - sc * 6
    nz.line(world.albedo, (x, y), (x, top), nz.color("#5a5c60"), max(1, sc * 0.15))
    nz.line(world.albedo, (x, top), (x + sc * 1.2, top), nz.color("#5a5c60"), max(1, sc * 0.12))
    spot = np.zeros((world.height, world.width), np.float32)
    nz.ellipse(spot, x + sc * 1.2, y + sc * 0.5, sc * 5, sc * 2.2, (0.35,))
    glow: F32 = np.asarray(cv2.GaussianBlur(spot, (0, 0), sc * 1.5), np.float32)
    nz.ellipse(glow, x + sc * 1.2, top + 1, sc * 0.4, sc * 0.3, (3.0,))
    world.emissive += (
        glow[..., None]
        * np.asarray(nz.color("#ffc070"), np.float32)
        * world.albedo.mean(axis=2, keepdims=True).clip(0.3, 1)
        * 2
    )

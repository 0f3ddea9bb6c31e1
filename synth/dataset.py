"""Labelled still images for training the structure model: varied views, light and clutter.

:func:`sample_image` draws a random village-edge view (ground, road, houses,
trees), pastes zero to four structures of the requested classes at a believable
size for their distance, adds walkers, vehicles and sometimes a dog (unlabelled:
the model must learn to ignore them), then lights the whole at a random hour of
day, dusk or night, often in infrared, with cloud shadows, sensor noise, blur
and JPEG compression.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from synth import noise as nz
from synth.actors import actor_sprite
from synth.background import World, add_building, make_world
from synth.light import Light, apply_light, expose, light_at
from synth.noise import F32
from synth.pen import Sprite
from synth.structures import ASPECT, STRUCTURE_CLASSES, render_structure, wall_sprite

Label = tuple[str, tuple[int, int, int, int]]
HEIGHT_M = {
    "steel_roof_shed": (2.8, 5.0),
    "building_extension": (3.0, 6.5),
    "scaffolding": (4.0, 10.0),
    "building_materials": (1.3, 2.8),  # one pile; sites often have several side by side
    "construction_machinery": (2.4, 3.6),
}


def _size(size: int | tuple[int, int]) -> tuple[int, int]:
    w, h = (size, size) if isinstance(size, int) else size
    if w < 64 or h < 64:
        raise ValueError(f"size must be at least 64×64, got {w}×{h}")
    return int(w), int(h)


def sample_image(
    rng: np.random.Generator,
    size: int | tuple[int, int] = 640,
    classes: Sequence[str] = STRUCTURE_CLASSES,
) -> tuple[np.ndarray, list[Label]]:
    """One training image (BGR uint8, ``size`` = w or (w, h)) and its [(class, xyxy)] labels.

    About one image in eight has no structure at all (a hard negative).
    """
    for c in classes:
        if c not in STRUCTURE_CLASSES:
            raise ValueError(f"classes must be among {', '.join(STRUCTURE_CLASSES)}, got {c!r}")
    w, h = _size(size)
    horizon = float(rng.choice((0.0, rng.uniform(0.05, 0.3))))
    zoom = float(rng.uniform(0.7, 2.2))
    n = 0 if (rng.random() < 0.12 or not classes) else int(rng.integers(1, 5))
    plan = _plan(rng, w, h, horizon, zoom, n, classes)
    sun_dx = float(rng.uniform(0.3, 0.9) * rng.choice((-1.0, 1.0)))
    world = make_world(rng, w, h, horizon=horizon, keep_clear=[p[1] for p in plan], sun_dx=sun_dx)
    plan = sorted(plan, key=lambda p: p[1][3])
    styles = [_host(rng, world, cls, box, zoom) for cls, box in plan]
    assert world.shade is not None
    albedo, sunlit = world.albedo.copy(), world.shade.copy()
    labels: list[Label] = []
    for (cls, box), style in zip(plan, styles, strict=True):
        x1, y1, x2, y2 = (round(v) for v in box)
        progress = 1.0 if rng.random() < 0.75 else float(rng.uniform(0.5, 1.0))
        sp = render_structure(
            cls, x2 - x1, y2 - y1, rng, progress=progress, sun_dx=sun_dx, style=style
        )
        _paste(albedo, sunlit, sp, x1, y1)
        if sp.bbox is not None:
            bx = (x1 + sp.bbox[0], y1 + sp.bbox[1], x1 + sp.bbox[2], y1 + sp.bbox[3])
            bx = (max(0, bx[0]), max(0, bx[1]), min(w, bx[2]), min(h, bx[3]))
            if (bx[2] - bx[0]) >= 4 and (bx[3] - bx[1]) >= 4:
                labels.append((cls, bx))
    _walls(rng, world, albedo, sunlit, zoom, [(b[0], b[1], b[2], b[3]) for _, b in labels])
    _distractors(rng, world, albedo, sunlit, zoom, sun_dx)
    return _finish(rng, world, albedo, sunlit), labels


def _plan(
    rng: np.random.Generator,
    w: int,
    h: int,
    horizon: float,
    zoom: float,
    n: int,
    classes: Sequence[str],
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Non-overlapping boxes on the ground, sized in metres for their distance."""
    probe = World(
        np.zeros((h, w, 3), np.float32),
        np.zeros((h, w), np.float32),
        np.zeros((h, w, 3), np.float32),
        int(horizon * h),
        None,
    )
    out: list[tuple[str, tuple[float, float, float, float]]] = []
    placed = 0  # structures planned, not counting piles placed beside a pile
    for _ in range(n * 6):
        if placed >= n:
            break
        cls = str(rng.choice(list(classes)))
        y2 = float(rng.uniform(probe.horizon + 0.25 * (h - probe.horizon), h * 1.02))
        sc = probe.scale_at(y2) * zoom
        bh = sc * rng.uniform(*HEIGHT_M[cls])
        bw = bh * rng.uniform(*ASPECT[cls])
        if bh < 10 or bw < 10 or bw > 0.8 * w or bh > 0.7 * h:
            continue
        x1 = float(rng.uniform(-0.1 * bw, w - 0.9 * bw))
        box = (x1, y2 - bh, x1 + bw, y2)
        if box[1] < probe.horizon - 0.2 * bh or any(
            _iou(box, b) > 0.15 or _inside(box, b) > 0.3 for _, b in out
        ):
            continue
        out.append((cls, box))
        placed += 1
        if cls == "building_materials":
            out.extend(_neighbour_piles(rng, box, w, out))
    return out


def _neighbour_piles(
    rng: np.random.Generator,
    box: tuple[float, float, float, float],
    w: int,
    taken: list[tuple[str, tuple[float, float, float, float]]],
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Zero to two more piles beside ``box``, a little apart: one box each."""
    x1, y1, x2, y2 = box
    bh = y2 - y1
    out: list[tuple[str, tuple[float, float, float, float]]] = []
    side = float(rng.choice((-1.0, 1.0)))
    edge = x2 if side > 0 else x1
    for _ in range(int(rng.choice((0, 0, 1, 1, 2)))):
        nh = bh * rng.uniform(0.7, 1.25)
        nw = nh * rng.uniform(*ASPECT["building_materials"])
        gap = bh * rng.uniform(0.15, 0.6)
        nx1 = edge + gap if side > 0 else edge - gap - nw
        ny2 = y2 + bh * rng.uniform(-0.1, 0.1)
        nbox = (nx1, ny2 - nh, nx1 + nw, ny2)
        if nbox[0] < -0.1 * nw or nbox[2] > w + 0.1 * nw:
            break
        if any(_iou(nbox, b) > 0.05 for _, b in [*taken, *out]):
            break
        out.append(("building_materials", nbox))
        edge = nbox[2] if side > 0 else nbox[0]
    return out


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / max(1e-6, union)


def _inside(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection over the smaller box: one structure standing inside another's box."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return ix * iy / max(1e-6, small)


def _host(
    rng: np.random.Generator,
    world: World,
    cls: str,
    box: tuple[float, float, float, float],
    zoom: float,
) -> dict[str, object]:
    """An extension gets a house beside it, whose wall colour it copies."""
    if cls != "building_extension":
        return {}
    x1, _, x2, y2 = box
    side = x2 if rng.random() < 0.5 else x1 - 1.5 * (x2 - x1)
    storeys = max(1, round((y2 - box[1]) / (3.0 * world.scale_at(y2) * zoom)) + 1)
    _, wall = add_building(rng, world, x1=side, y_base=y2, width=1.5 * (x2 - x1), storeys=storeys)
    return {"wall_color": wall}


def _paste(albedo: F32, sunlit: F32, sp: Sprite, x: int, y: int) -> None:
    nz.multiply(sunlit, 1.0 - 0.9 * sp.shadow, x - sp.pad, y - sp.pad)
    nz.paste(albedo, sp.rgb, sp.alpha, x - sp.pad, y - sp.pad)


def _distractors(
    rng: np.random.Generator, world: World, albedo: F32, sunlit: F32, zoom: float, sun_dx: float
) -> None:
    """Walkers, vehicles (on the road or parked) and sometimes a dog: never labelled."""
    h, w = world.height, world.width
    kinds = ["person"] * int(rng.integers(0, 6)) + ["dog"] * int(rng.random() < 0.15)
    kinds += [
        str(rng.choice(("car", "car", "van", "truck"))) for _ in range(int(rng.integers(0, 4)))
    ]
    for kind in kinds:
        x = float(rng.uniform(0, w))
        if kind in ("car", "van", "truck") and world.road is not None and rng.random() < 0.7:
            y = world.road_y(x) + world.road[2] * rng.uniform(-0.1, 0.6)
        else:
            y = float(rng.uniform(world.horizon + 0.15 * (h - world.horizon), h))
        sp = actor_sprite(
            kind, world.scale_at(y) * zoom, rng, facing=int(rng.choice((-1, 1))), sun_dx=sun_dx
        )
        bw, bh = sp.alpha.shape[1] - 2 * sp.pad, sp.alpha.shape[0] - 2 * sp.pad
        _paste(albedo, sunlit, sp, round(x - bw / 2), round(y - bh))


def _walls(
    rng: np.random.Generator,
    world: World,
    albedo: F32,
    sunlit: F32,
    zoom: float,
    keep: Sequence[tuple[float, float, float, float]],
) -> None:
    """Sometimes a yard wall (brick or plastered, unlabelled): walls are not structures to
    name, and a wall of bricks is neither a pile of bricks nor scaffolding."""
    h, w = world.height, world.width
    for _ in range(int(rng.choice((0, 0, 1, 1, 2)))):
        y2 = float(rng.uniform(world.horizon + 0.2 * (h - world.horizon), h))
        sc = world.scale_at(y2) * zoom
        bh, bw = sc * rng.uniform(1.0, 2.0), sc * rng.uniform(3.0, 10.0)
        if bh < 6 or bh > 0.15 * h or bw > 0.6 * w:
            continue
        x1 = float(rng.uniform(-0.2 * bw, w - 0.8 * bw))
        box = (x1, y2 - bh, x1 + bw, y2)
        if any(_iou(box, k) > 0.0 for k in keep):
            continue
        sp = wall_sprite(rng, round(bw), round(bh), sun_dx=float(rng.uniform(-0.8, 0.8)))
        _paste(albedo, sunlit, sp, round(x1), round(y2 - bh))


def _light(rng: np.random.Generator) -> Light:
    u = rng.random()
    if u < 0.45:
        hour = rng.uniform(7.5, 16.5)
    elif u < 0.65:
        hour = rng.uniform(16.5, 18.8)
    else:
        hour = rng.uniform(19.5, 28.5)
    return light_at(float(hour), ir_night=bool(rng.random() < 0.65))


def _finish(rng: np.random.Generator, world: World, albedo: F32, sunlit: F32) -> np.ndarray:
    h, w = world.height, world.width
    light = _light(rng)
    sky_tex = None
    if rng.random() < 0.4:
        clouds = np.clip((nz.value_noise(rng, h, w, w / 2.5, 3) - rng.uniform(0.0, 0.6)) * 3, 0, 1)
        sunlit = sunlit * (1.0 - 0.6 * clouds)
        sky_tex = 1.0 + 0.3 * clouds
    light, gain = expose(light, max_gain=10.0)  # labelled nights must show something
    img = apply_light(
        albedo, light, sunlit=sunlit, emissive=world.emissive, sky=world.sky, sky_texture=sky_tex
    )
    img = img * np.float32(255.0 * gain)
    sigma = (
        (1.2 + 1.3 * (min(gain, 5.0) - 1.0)) * (1.6 if light.ir else 1.0) * rng.uniform(0.5, 2.0)
    )
    img += rng.standard_normal((h, w, 1), dtype=np.float32) * np.float32(sigma)
    out = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.3, 0.9)))
    if rng.random() < 0.6:
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(35, 90))])
        if ok:
            out = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return out

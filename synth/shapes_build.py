"""Built structures: steel-roof shed, building extension, scaffolding.

Each ``draw_*`` takes every random choice from ``rng`` first, in a fixed order,
so the same generator state gives the same structure at every ``progress``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synth import noise as nz
from synth.pen import Col, Pen

ROOF_COLOURS = ("#3b6db3", "#3b6db3", "#4a7fc4", "#c9ccd0", "#b3563d", "#4f8a6b", "#9aa3ab")
WALL_COLOURS = ("#e8e2d6", "#d9d4c9", "#cfc6b5", "#e6d3c3", "#bfbfbd", "#efeae0")
BLOCK = nz.color("#9b9a94")
DARK = nz.color("#1c1c1e")


def _stage(p: float, a: float, b: float) -> float:
    """Progress within the stage ``a``..``b`` of the build (0 before, 1 after)."""
    return float(np.clip((p - a) / (b - a), 0.0, 1.0))


def draw_shed(pen: Pen, rng: np.random.Generator, progress: float, style: dict[str, Any]) -> None:
    """A steel-frame shed with a corrugated sheet roof, open or clad, seen from above-front."""
    w, h = pen.w, pen.h
    roof = nz.jitter(rng, nz.color(str(rng.choice(ROOF_COLOURS))), 0.04)
    d = h * rng.uniform(0.38, 0.6)  # the roof's apparent depth
    dx = w * rng.uniform(0.05, 0.14) * (1 if rng.random() < 0.6 else -1)
    clad = rng.random() < 0.55
    n_posts = int(rng.integers(3, 6))
    pitch = max(2.0, w / rng.uniform(14, 24))
    rust = rng.random() < 0.3
    post_c = nz.jitter(rng, nz.color("#7d8186"))
    xl, xr = (0.0, w - abs(dx)) if dx > 0 else (abs(dx), w)
    front_top = d
    s = pen.scale
    # 0..0.3: posts rise; 0.3..0.5: beams; 0.5..0.9: roof sheets; 0.9..1: cladding
    posts = _stage(progress, 0.0, 0.3)
    if posts > 0:
        top = h - (h - front_top) * posts
        for i in range(n_posts):
            x = xl + (xr - xl - 2 * s) * i / (n_posts - 1)
            pen.rect(x, top, x + 2 * s, h, post_c)
            pen.rect(x + dx, top - d, x + dx + 1.5 * s, h - d * 0.9, nz.shade(post_c, 0.8))
    if progress >= 0.3:
        beams = _stage(progress, 0.3, 0.5)
        pen.line((xl, front_top), (xl + (xr - xl) * beams, front_top), post_c, 1.5 * s)
        pen.line((xl + dx, 0), (xl + dx + (xr - xl) * beams, 0), post_c, 1.5 * s)
    cover = _stage(progress, 0.5, 0.9)
    if clad and progress > 0.9:
        wall_top = h - (h - front_top) * _stage(progress, 0.9, 1.0)
        pen.rect(xl, wall_top, xr, h, nz.shade(roof, 0.72))
        _stripes(pen, xl, wall_top, xr, h, pitch, nz.shade(roof, 0.6))
        side = [(xr, front_top), (xr + dx, 0), (xr + dx, h - d), (xr, h)] if dx > 0 else None
        if side:
            pen.poly(side, nz.shade(roof, 0.55))
    if cover > 0:
        xe = xl + (xr - xl) * cover
        pen.poly([(xl, front_top), (xe, front_top), (xe + dx, 0), (xl + dx, 0)], roof)
        _corrugate(pen, xl, xe, front_top, dx, pitch, roof)
        if not clad and cover >= 1:
            # open front: the dark inside under the eave, posts in front of it
            pen.rect(xl + s, front_top + 2 * s, xr - s, h, nz.shade(DARK, 1.4), 0.85)
            for i in range(n_posts):
                x = xl + (xr - xl - 2 * s) * i / (n_posts - 1)
                pen.rect(x, front_top, x + 2 * s, h, post_c)
        pen.line((xl, front_top), (xe, front_top), nz.shade(roof, 1.35), 1.2 * s)
        if rust and cover >= 1:
            for _ in range(4):
                x = rng.uniform(xl, xr)
                pen.line((x, front_top), (x + dx * 0.6, d * 0.4), nz.color("#8a5a3a"), s)


def _corrugate(pen: Pen, x1: float, x2: float, y: float, dx: float, pitch: float, c: Col) -> None:
    """Corrugation ribs running up the roof slope: alternating light and dark lines."""
    light, dark = nz.shade(c, 1.18), nz.shade(c, 0.78)
    x, i = x1, 0
    while x < x2 - 1:
        pen.line((x, y - 1), (x + dx, 1), light if i % 2 == 0 else dark, 0.8 * pen.scale)
        x += pitch / 2
        i += 1


def _stripes(pen: Pen, x1: float, y1: float, x2: float, y2: float, pitch: float, c: Col) -> None:
    x = x1 + pitch / 2
    while x < x2:
        pen.line((x, y1), (x, y2), c, 0.7 * pen.scale)
        x += pitch


def draw_extension(
    pen: Pen, rng: np.random.Generator, progress: float, style: dict[str, Any]
) -> None:
    """A room added to a building: block walls rise, a slab goes on, then plaster and windows."""
    w, h = pen.w, pen.h
    given = style.get("wall_color")
    base: Col = nz.color(str(rng.choice(WALL_COLOURS)))
    if given is not None:
        base = (float(given[0]), float(given[1]), float(given[2]))
    wall = nz.jitter(rng, base, 0.02)
    slab = h * rng.uniform(0.08, 0.16)
    storeys = 1 if h < 1.1 * w * 0.6 or rng.random() < 0.5 else 2
    n_win = int(rng.integers(1, 4))
    win_w = w * rng.uniform(0.12, 0.2)
    s = pen.scale
    body_top = slab
    walls = _stage(progress, 0.0, 0.7)
    if walls > 0:
        top = h - (h - body_top) * walls
        pen.rect(0, top, w, h, BLOCK)
        course = max(3.0, 3.0 * s)
        y = h
        row = 0
        while y > top:
            pen.line((0, y), (w, y), nz.shade(BLOCK, 0.8), max(1.0, 0.5 * s))
            off = (row % 2) * course
            for x in np.arange(off, w, 2 * course):
                pen.line((x, y), (x, max(top, y - course)), nz.shade(BLOCK, 0.8), 0.5 * s)
            y -= course
            row += 1
        pen.texture(rng, 0.05)
    if progress >= 0.7:
        slab_w = w * _stage(progress, 0.7, 0.8)
        pen.rect(0, 0, slab_w, slab, nz.color("#b4b2ab"))
        pen.rect(0, slab * 0.75, slab_w, slab, nz.color("#7e7c77"))
    plaster = _stage(progress, 0.8, 1.0)
    if plaster > 0:
        pen.rect(0, body_top, w * plaster, h, wall)
    story_h = (h - body_top) / storeys
    for st in range(storeys):
        for i in range(n_win):
            cx = w * (i + 1) / (n_win + 1)
            y1 = body_top + st * story_h + story_h * 0.22
            y2 = y1 + story_h * 0.45
            if walls * (h - body_top) < h - y1 and progress < 0.8:
                continue  # the wall has not reached this window yet
            pen.rect(cx - win_w / 2, y1, cx + win_w / 2, y2, nz.color("#2a3036"))
            if cx - win_w / 2 < w * plaster:
                pen.rect(cx - win_w / 2, y1, cx + win_w / 2, y1 + s, nz.shade(wall, 1.1))
                pen.line((cx, y1), (cx, y2), nz.color("#8f9499"), 0.8 * s)
    pen.texture(rng, 0.03)


def draw_scaffolding(
    pen: Pen, rng: np.random.Generator, progress: float, style: dict[str, Any]
) -> None:
    """Poles, ledgers, braces, planks and safety netting, put up from the ground."""
    w, h = pen.w, pen.h
    bamboo = rng.random() < 0.35
    pole_c = nz.jitter(rng, nz.color("#c4a469" if bamboo else "#8e9196"))
    n_cols = int(np.clip(w / (h * rng.uniform(0.18, 0.3)), 3, 9))
    levels = int(rng.integers(2, 6))
    net = rng.random() < 0.7
    net_c = nz.color(str(rng.choice(("#2f7d4a", "#2f7d4a", "#2c5d9e", "#3d8f5a"))))
    net_cover = rng.uniform(0.5, 1.0)
    plank_c = nz.jitter(rng, nz.color("#8b6a43"))
    s = pen.scale
    pw = max(1.2 * s, w / 110)
    rise = _stage(progress, 0.0, 0.45)
    top = h - h * rise
    xs = [pw + (w - 2 * pw) * i / (n_cols - 1) for i in range(n_cols)]
    lvl_h = h / levels
    for x in xs:
        if rise > 0:
            pen.line((x, h), (x, top), pole_c, pw)
    for k in range(1, levels + 1):
        y = h - k * lvl_h + pw
        if y < top:
            break
        pen.line((xs[0], y), (xs[-1], y), pole_c, pw * 0.8)
        if _stage(progress, 0.45, 0.65) * levels >= k:
            pen.rect(xs[0], y - 0.7 * pw, xs[-1], y + 1.3 * pw, plank_c)
    braces = _stage(progress, 0.4, 0.6)
    for i in range(0, n_cols - 1, 2):
        if braces * (n_cols - 1) > i:
            pen.line((xs[i], h), (xs[i + 1], max(top, h - 2 * lvl_h)), pole_c, pw * 0.7)
    cover = _stage(progress, 0.65, 1.0)
    if net and cover > 0:
        y_net = h - (h - top) * net_cover * cover
        m = np.zeros_like(pen.alpha)
        o = pen.pad * s
        nz.rect(m, xs[0] + o, y_net + o, xs[-1] + o, h + o, (0.8,))
        holes = rng.random(m.shape) < 0.12
        m[holes] *= 0.5
        pen.blend(m, net_c)
        for k in range(1, levels + 1):  # ledgers show through as folds in the net
            y = h - k * lvl_h + pw
            if y > y_net:
                pen.line((xs[0], y), (xs[-1], y), nz.shade(net_c, 0.7), pw * 0.6)

"""Site structures: building-material piles and construction machinery.

Same rule as ``shapes_build``: random choices first, then drawing by ``progress``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from synth import noise as nz
from synth.pen import Col, Pen
from synth.shapes_build import _stage

PILES = ("bricks", "sand", "rebar", "pipes", "blocks", "gravel")


def draw_materials(
    pen: Pen, rng: np.random.Generator, progress: float, style: dict[str, Any]
) -> None:
    """One pile (bricks, sand, rebar, pipes, blocks or gravel) filling the box, growing with
    ``progress``; ``style["pile"]`` picks the kind. One pile is one labelled structure: a
    site with several piles has several boxes (``synth.dataset`` places them side by side)."""
    w, h = pen.w, pen.h
    kind = str(style.get("pile") or rng.choice(PILES))
    if kind not in _PILE_DRAWERS:
        raise ValueError(f"pile must be one of {', '.join(PILES)}, got {kind!r}")
    grow = _stage(progress, 0.0, 1.0)
    if grow <= 0:
        return
    gap = w * 0.02
    _PILE_DRAWERS[kind](pen, rng, gap, w - gap, h, grow)


def _bricks(pen: Pen, rng: np.random.Generator, x1: float, x2: float, h: float, g: float) -> None:
    red = nz.jitter(rng, nz.color(str(rng.choice(("#a4472f", "#b55a3c", "#8e3f2c")))))
    top_h = h * rng.uniform(0.15, 0.3)
    stack_h = (h - top_h) * rng.uniform(0.6, 1.0)
    y_top = h - stack_h * g
    pen.rect(x1, y_top, x2, h, red)
    pen.poly(
        [
            (x1, y_top),
            (x2, y_top),
            (x2 - top_h * 0.3, y_top - top_h),
            (x1 + top_h * 0.3, y_top - top_h),
        ],
        nz.shade(red, 1.3),
    )
    bh = max(2.0, 1.6 * pen.scale)
    y, row = h, 0
    mortar = nz.shade(red, 0.7)
    while y > y_top:
        pen.line((x1, y), (x2, y), mortar, 0.5 * pen.scale)
        for x in np.arange(x1 + (row % 2) * 2.5 * bh, x2, 5 * bh):
            pen.line((x, y), (x, max(y_top, y - bh)), mortar, 0.5 * pen.scale)
        y -= bh
        row += 1
    pen.rect(x1, h - bh, x2, h, nz.color("#6e5a40"))  # pallet
    pen.texture(rng, 0.08, 2.0)


def _heap(
    pen: Pen, rng: np.random.Generator, x1: float, x2: float, h: float, g: float, hexc: str
) -> None:
    c = nz.jitter(rng, nz.color(hexc))
    peak = rng.uniform(0.35, 0.65)
    width = (x2 - x1) * (0.55 + 0.45 * g)
    height = min(h * rng.uniform(0.75, 1.0), width * rng.uniform(0.45, 0.65)) * (0.4 + 0.6 * g)
    cx = x1 + (x2 - x1) / 2
    a, b = cx - width / 2, cx + width / 2
    top = a + (b - a) * peak
    xs = np.linspace(a, b, 24)
    d = np.abs(xs - top) / np.where(xs < top, top - a, b - top)
    ys = h - height * np.clip(1 - d**2, 0, 1) ** 0.7
    pts = [*zip(xs.tolist(), ys.tolist(), strict=True), (b, h), (a, h)]
    pen.poly(pts, nz.shade(c, 0.85))
    side = float(rng.choice((-1.0, 1.0)))
    for k in range(1, 6):  # nested, smaller heaps nudged toward the light: rounded shading
        f = 1.0 - 0.16 * k
        nudge = side * (1.0 - f) * width * 0.25
        inner = [(top + (x - top) * f + nudge, h - (h - y) * f) for x, y in pts]
        pen.poly(inner, nz.shade(c, 0.85 + 0.07 * k))
    pen.line((a, h - 0.5 * pen.scale), (b, h - 0.5 * pen.scale), nz.shade(c, 0.45), 1.5 * pen.scale)
    if rng.random() < 0.45:  # site rules: heaps of sand and gravel go under a dust net
        _net(pen, rng, pts, top, h - height)
    pen.texture(rng, 0.12, 1.5)


def _net(
    pen: Pen, rng: np.random.Generator, pts: list[tuple[float, float]], top: float, y_top: float
) -> None:
    """A green (sometimes blue) dust net thrown over a heap: its outline, a mesh, folds."""
    net = nz.jitter(rng, nz.color(str(rng.choice(("#2f6b3a", "#3d7d45", "#275a34", "#3f5f8f")))))
    pen.poly(pts, net)
    xs = [x for x, _ in pts]
    a, b = min(xs), max(xs)
    h = max(y for _, y in pts)
    step = max(3.0 * pen.scale, (b - a) / 9)
    for x in np.arange(a + step / 2, b, step):  # folds running down from the top
        pen.line((top, y_top), (float(x), h), nz.shade(net, 0.7), 0.6 * pen.scale)
    pen.poly(pts[:-2][:: max(1, len(pts) // 12)] + [(b, h), (a, h)], nz.shade(net, 1.15), 0.25)


def _sand(pen: Pen, rng: np.random.Generator, x1: float, x2: float, h: float, g: float) -> None:
    _heap(pen, rng, x1, x2, h, g, str(rng.choice(("#cdb588", "#c2a877", "#d4bf95"))))


def _gravel(pen: Pen, rng: np.random.Generator, x1: float, x2: float, h: float, g: float) -> None:
    _heap(pen, rng, x1, x2, h, g, str(rng.choice(("#8f8d88", "#a19d94"))))


def _rebar(pen: Pen, rng: np.random.Generator, x1: float, x2: float, h: float, g: float) -> None:
    rust = nz.jitter(rng, nz.color("#6c4a38"))
    n = int(rng.integers(14, 28))
    tilt = rng.uniform(-0.08, 0.08) * (x2 - x1)
    base = h - 1.5 * pen.scale
    pile_h = max(h * 0.45, min(h * 0.8, n * 1.4 * pen.scale))
    for k in (0.2, 0.75):
        pen.rect(
            x1 + (x2 - x1) * k,
            base - 1.5 * pen.scale,
            x1 + (x2 - x1) * k + 3 * pen.scale,
            h,
            nz.color("#7b6142"),
        )
    offs = rng.uniform(0, 1, size=n)
    for i in range(int(n * g)):
        y = base - pile_h * offs[i] * (0.5 + 0.5 * (i / n))
        pen.line(
            (x1, y + tilt), (x2, y - tilt), nz.shade(rust, 0.8 + 0.4 * offs[i]), 1.3 * pen.scale
        )


def _pipes(pen: Pen, rng: np.random.Generator, x1: float, x2: float, h: float, g: float) -> None:
    c = nz.jitter(rng, nz.color(str(rng.choice(("#d8d8d4", "#8d9296", "#d77f3c", "#cfc6a0")))))
    r = max(2.0 * pen.scale, min((x2 - x1) / 9, h / 6) * rng.uniform(0.7, 1.0))
    per_row = max(2, int((x2 - x1) / (2 * r)))
    rows = min(per_row, int(rng.integers(2, 5)))
    count = 0
    total = sum(per_row - i for i in range(rows))
    for row in range(rows):
        for i in range(per_row - row):
            if count >= total * g:
                return
            cx = x1 + r + row * r + 2 * r * i
            cy = h - r - row * 1.7 * r
            pen.ellipse(cx, cy, r, r, c)
            pen.ellipse(cx, cy, r * 0.62, r * 0.62, nz.shade(c, 0.35))
            count += 1


def _blocks(pen: Pen, rng: np.random.Generator, x1: float, x2: float, h: float, g: float) -> None:
    c = nz.jitter(rng, nz.color("#a9a8a2"))
    cols = int(rng.integers(1, 4))
    cw = (x2 - x1) / cols
    for i in range(cols):
        top = h - (h * rng.uniform(0.5, 0.9)) * g
        bx1, bx2 = x1 + i * cw + 0.5 * pen.scale, x1 + (i + 1) * cw - 0.5 * pen.scale
        pen.rect(bx1, top, bx2, h, c)
        y = h
        while y > top:
            pen.line((bx1, y), (bx2, y), nz.shade(c, 0.75), 0.5 * pen.scale)
            y -= 3 * pen.scale
        pen.rect(bx1, top - 2 * pen.scale, bx2, top, nz.shade(c, 1.2))
    pen.texture(rng, 0.05)


_PILE_DRAWERS = {
    "bricks": _bricks,
    "sand": _sand,
    "gravel": _gravel,
    "rebar": _rebar,
    "pipes": _pipes,
    "blocks": _blocks,
}


def draw_wall(pen: Pen, rng: np.random.Generator) -> None:
    """A finished yard wall: brick courses (often) or plaster, with a coping on top."""
    w, h = pen.w, pen.h
    brick = rng.random() < 0.6
    hexc = ("#a4472f", "#9a5a44", "#b86b4b") if brick else ("#d9d4c8", "#b9b4aa", "#e6e0d0")
    c = nz.jitter(rng, nz.color(str(rng.choice(hexc))))
    cap = h * rng.uniform(0.06, 0.12)
    pen.rect(0, cap, w, h, c)
    pen.rect(-0.01 * w, 0, 1.01 * w, cap, nz.shade(c, 0.8 if brick else 1.1))
    if brick:
        bh = max(2.0, 1.6 * pen.scale)
        y, row = h, 0
        while y > cap:
            pen.line((0, y), (w, y), nz.shade(c, 0.72), 0.5 * pen.scale)
            for x in np.arange((row % 2) * 2.5 * bh, w, 5 * bh):
                pen.line((x, y), (x, max(cap, y - bh)), nz.shade(c, 0.72), 0.5 * pen.scale)
            y -= bh
            row += 1
    for x in np.arange(0, w, h * rng.uniform(1.5, 3.0)):  # pillars
        pen.rect(x, cap * 0.5, x + 0.12 * h, h, nz.shade(c, 0.9))
    pen.texture(rng, 0.1, 2.0)


def draw_machinery(
    pen: Pen, rng: np.random.Generator, progress: float, style: dict[str, Any]
) -> None:
    """A small tracked excavator (boom pose follows progress) beside the soil it has dug."""
    w, h = pen.w, pen.h
    body_c = nz.jitter(rng, nz.color(str(rng.choice(("#e2a823", "#e2a823", "#dc7a1f", "#d9c125")))))
    face_left = rng.random() < 0.5
    soil = nz.jitter(rng, nz.color("#6f5639"))
    s = pen.scale
    if progress <= 0.0:
        return

    def X(x: float) -> float:  # mirror so the machine can face either way
        return w - x if face_left else x

    def P(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [(X(x), y) for x, y in pts]

    tr_x1, tr_x2, tr_y1 = 0.02 * w, 0.55 * w, 0.78 * h
    pen.rect(min(X(tr_x1), X(tr_x2)), tr_y1, max(X(tr_x1), X(tr_x2)), h, nz.color("#2b2b2b"))
    for i in range(5):
        cx = X(tr_x1 + (tr_x2 - tr_x1) * (0.1 + 0.2 * i))
        pen.ellipse(cx, (tr_y1 + h) / 2, 0.04 * w, 0.06 * h, nz.color("#4b4b4b"))
    pen.poly(
        P([(0.0, 0.55 * h), (0.58 * w, 0.55 * h), (0.6 * w, tr_y1), (0.04 * w, tr_y1)]), body_c
    )
    pen.poly(
        P([(0.0, 0.5 * h), (0.14 * w, 0.5 * h), (0.14 * w, 0.6 * h), (0.0, 0.62 * h)]),
        nz.shade(body_c, 0.75),
    )
    pen.rect(min(X(0.3 * w), X(0.55 * w)), 0.2 * h, max(X(0.3 * w), X(0.55 * w)), 0.56 * h, body_c)
    pen.rect(
        min(X(0.36 * w), X(0.53 * w)),
        0.25 * h,
        max(X(0.36 * w), X(0.53 * w)),
        0.47 * h,
        nz.color("#26323a"),
    )
    pen.rect(
        min(X(0.3 * w), X(0.55 * w)),
        0.2 * h,
        max(X(0.3 * w), X(0.55 * w)),
        0.23 * h,
        nz.shade(body_c, 1.2),
    )
    _boom(pen, X, P, progress, body_c)
    if progress < 1.0 or rng.random() < 0.6:
        dug = min(1.0, progress * 1.5)
        pen.ellipse(
            X(0.85 * w), h - 0.02 * h, 0.14 * w * dug + s, 0.1 * h * dug + s, soil, 180, 360
        )
    pen.texture(rng, 0.05)


def _boom(
    pen: Pen,
    X: Callable[[float], float],
    P: Callable[[list[tuple[float, float]]], list[tuple[float, float]]],
    progress: float,
    body_c: Col,
) -> None:
    """Boom, arm and bucket: raised and swinging while digging, lowered when parked."""
    w, h = pen.w, pen.h
    lift = 0.5 + 0.5 * np.sin(progress * 9.0) if progress < 1.0 else 0.0
    knee = (0.82 * w, (0.12 + 0.25 * (1 - lift)) * h)
    tip = (0.97 * w, (0.55 + 0.3 * (1 - lift)) * h)
    root = (0.56 * w, 0.5 * h)
    pen.line((X(root[0]), root[1]), (X(knee[0]), knee[1]), body_c, 0.07 * h)
    pen.line((X(knee[0]), knee[1]), (X(tip[0]), tip[1]), nz.shade(body_c, 0.9), 0.05 * h)
    bucket = [
        (tip[0] - 0.06 * w, tip[1]),
        (tip[0] + 0.02 * w, tip[1] - 0.04 * h),
        (tip[0] + 0.03 * w, tip[1] + 0.12 * h),
    ]
    pen.poly(P(bucket), nz.color("#3a3a38"))

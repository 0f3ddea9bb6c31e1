"""Things that move or come and go: walkers, passing vehicles, parked vehicles, a dog.

Each is drawn as a :class:`~synth.pen.Sprite` (albedo + coverage) sized in
metres with the world's perspective scale, so the scene lights it like the rest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from synth import noise as nz
from synth.pen import Col, Pen, Sprite, cast_shadow, tight_bbox

SHIRTS = ("#c0392b", "#2c3e50", "#ecf0f1", "#2980b9", "#f39c12", "#7f8c8d", "#16a085", "#1f1f1f")
CARS = ("#e8e8e8", "#1b1b1b", "#9ea4aa", "#b0272c", "#27408b", "#d0d3d4", "#4d5656", "#8a6e4b")
VEHICLE_KINDS = ("car", "van", "truck")
SIZE_M = {
    "person": (0.55, 1.7),
    "car": (4.4, 1.5),
    "van": (5.0, 2.1),
    "truck": (6.5, 2.8),
    "dog": (0.9, 0.6),
}


def actor_sprite(
    kind: str, px_per_m: float, rng: np.random.Generator, *, facing: int = 1, sun_dx: float = 0.5
) -> Sprite:
    """A ``kind`` (person, car, van, truck, dog) at ``px_per_m`` pixels per metre."""
    wm, hm = SIZE_M[kind]
    w, h = max(3, round(wm * px_per_m)), max(4, round(hm * px_per_m))
    pad = math.ceil(abs(sun_dx) * h * 0.6) + 2
    pen = Pen(w, h, pad, scale=3 if h < 20 else 2)
    if kind == "person":
        _person(pen, rng)
    elif kind == "dog":
        _dog(pen, rng)
    else:
        _vehicle(pen, rng, kind, facing)
    rgb, alpha = pen.finish()
    shadow = cast_shadow(alpha, pad + h - 1.0, sun_dx)
    return Sprite(rgb=rgb, alpha=alpha, shadow=shadow, pad=pad, bbox=tight_bbox(alpha, pad))


def _person(pen: Pen, rng: np.random.Generator) -> None:
    w, h = pen.w, pen.h
    shirt = nz.jitter(rng, nz.color(str(rng.choice(SHIRTS))))
    pants = nz.jitter(rng, nz.color(str(rng.choice(("#2c3e50", "#1f1f1f", "#5d4e3a", "#34495e")))))
    skin = nz.jitter(rng, nz.color("#c69c7b"), 0.03)
    stride = rng.uniform(0.0, 0.35) * w
    pen.poly(
        [(w * 0.3, h * 0.52), (w * 0.5, h * 0.52), (w * 0.5 - stride, h), (w * 0.3 - stride, h)],
        pants,
    )
    pen.poly(
        [(w * 0.5, h * 0.52), (w * 0.7, h * 0.52), (w * 0.7 + stride, h), (w * 0.5 + stride, h)],
        nz.shade(pants, 0.8),
    )
    pen.rect(w * 0.2, h * 0.17, w * 0.8, h * 0.55, shirt)
    pen.ellipse(w * 0.5, h * 0.09, w * 0.22, h * 0.08, skin)
    pen.ellipse(w * 0.5, h * 0.05, w * 0.22, h * 0.05, nz.color("#1a1410"))


def _dog(pen: Pen, rng: np.random.Generator) -> None:
    w, h = pen.w, pen.h
    fur = nz.jitter(rng, nz.color(str(rng.choice(("#8b5a2b", "#d2b48c", "#2b2b2b", "#e8e0d0")))))
    pen.ellipse(w * 0.5, h * 0.45, w * 0.32, h * 0.2, fur)
    for x in (0.25, 0.35, 0.65, 0.75):
        pen.rect(w * x - w * 0.03, h * 0.5, w * x + w * 0.03, h, nz.shade(fur, 0.85))
    pen.ellipse(w * 0.85, h * 0.3, w * 0.12, h * 0.14, fur)
    pen.line((w * 0.18, h * 0.4), (w * 0.05, h * 0.2), fur, max(1.0, h * 0.06))


def _vehicle(pen: Pen, rng: np.random.Generator, kind: str, facing: int) -> None:
    """Seen from a pole, a little above: side, lit top surfaces, glass, wheels, lights."""
    paint = nz.jitter(rng, nz.color(str(rng.choice(CARS))), 0.03)
    w, h = pen.w, pen.h

    def P(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
        return [((x if facing > 0 else 1.0 - x) * w, y * h) for x, y in pts]

    top, glass = nz.shade(paint, 1.25), nz.color("#26313b")
    if kind == "car":
        _car(pen, P, paint, top, glass)
        wheels: tuple[float, ...] = (0.2, 0.8)
    elif kind == "van":
        _van(pen, P, paint, top, glass)
        wheels = (0.17, 0.8)
    else:
        box_c = nz.jitter(rng, nz.color(str(rng.choice(("#d8d8d8", "#2f5d8a", "#8a8a8a")))))
        pen.poly(P([(0.0, 0.12), (0.68, 0.12), (0.68, 0.82), (0.0, 0.82)]), box_c)
        pen.poly(P([(0.03, 0.0), (0.7, 0.0), (0.68, 0.12), (0.0, 0.12)]), nz.shade(box_c, 1.2))
        _van(
            pen,
            lambda pts: P([(0.68 + 0.32 * x, 0.25 + 0.75 * y) for x, y in pts]),
            paint,
            top,
            glass,
        )
        wheels = (0.12, 0.3, 0.85)
    pen.poly(P([(0.01, 0.8), (0.99, 0.8), (0.99, 0.9), (0.01, 0.9)]), nz.shade(paint, 0.45))
    r = h * 0.14
    for cx in wheels:
        x = (cx if facing > 0 else 1.0 - cx) * w
        pen.ellipse(x, h - r, r * 1.15, r * 1.1, nz.color("#121212"))
        pen.ellipse(x, h - r, r * 0.55, r * 0.5, nz.color("#9a9ea2"))
    pen.poly(P([(0.955, 0.58), (1.0, 0.58), (1.0, 0.66), (0.955, 0.66)]), nz.color("#f2f0e0"))
    pen.poly(P([(0.0, 0.58), (0.03, 0.58), (0.03, 0.68), (0.0, 0.68)]), nz.color("#b01818"))
    _body_shading(pen, rng)


def _body_shading(pen: Pen, rng: np.random.Generator) -> None:
    """Sky light from above: tops bright, flanks fading to a dark sill; a glossy band."""
    ch = pen.alpha.shape[0]
    o = pen.pad * pen.scale
    y = (np.arange(ch, dtype=np.float32) - o) / max(1.0, pen.h)
    grad = 1.25 - 0.5 * np.clip(y, 0.0, 1.0)
    grad += 0.25 * np.exp(-(((y - 0.5) / 0.04) ** 2))  # reflection along the shoulder line
    pen.rgb *= grad[:, None, None]
    pen.texture(rng, 0.04, 2.0)


def _car(
    pen: Pen,
    P: Callable[[list[tuple[float, float]]], list[tuple[float, float]]],
    paint: Col,
    top: Col,
    glass: Col,
) -> None:
    pen.poly(P([(0.0, 0.5), (0.3, 0.44), (0.7, 0.44), (1.0, 0.5), (1.0, 0.84), (0.0, 0.84)]), paint)
    pen.poly(P([(0.0, 0.5), (0.27, 0.42), (0.29, 0.5), (0.02, 0.56)]), top)  # boot lid
    pen.poly(P([(0.72, 0.42), (1.0, 0.5), (0.98, 0.56), (0.7, 0.5)]), top)  # bonnet
    pen.poly(P([(0.27, 0.42), (0.35, 0.14), (0.63, 0.14), (0.74, 0.42)]), glass)
    pen.poly(P([(0.36, 0.1), (0.62, 0.1), (0.63, 0.16), (0.35, 0.16)]), top)  # roof
    pen.poly(P([(0.33, 0.2), (0.48, 0.2), (0.48, 0.4), (0.3, 0.4)]), nz.shade(glass, 1.6))
    pen.poly(P([(0.5, 0.2), (0.62, 0.2), (0.69, 0.4), (0.5, 0.4)]), nz.shade(glass, 1.6))
    pen.line(
        P([(0.49, 0.2)])[0], P([(0.49, 0.8)])[0], nz.shade(paint, 0.6), max(1.0, pen.scale * 0.5)
    )
    pen.poly(P([(0.0, 0.64), (1.0, 0.64), (1.0, 0.68), (0.0, 0.68)]), nz.shade(paint, 0.8))


def _van(
    pen: Pen,
    P: Callable[[list[tuple[float, float]]], list[tuple[float, float]]],
    paint: Col,
    top: Col,
    glass: Col,
) -> None:
    pen.poly(
        P([(0.0, 0.1), (0.78, 0.1), (0.97, 0.42), (1.0, 0.5), (1.0, 0.84), (0.0, 0.84)]), paint
    )
    pen.poly(P([(0.02, 0.02), (0.76, 0.02), (0.78, 0.1), (0.0, 0.1)]), top)  # roof
    pen.poly(P([(0.79, 0.14), (0.95, 0.42), (0.8, 0.42)]), glass)  # windscreen edge
    pen.poly(P([(0.62, 0.15), (0.78, 0.15), (0.78, 0.42), (0.62, 0.42)]), nz.shade(glass, 1.5))
    pen.poly(P([(0.3, 0.15), (0.58, 0.15), (0.58, 0.4), (0.3, 0.4)]), nz.shade(glass, 1.3))
    pen.line(
        P([(0.6, 0.12)])[0], P([(0.6, 0.8)])[0], nz.shade(paint, 0.65), max(1.0, pen.scale * 0.5)
    )
    pen.poly(P([(0.0, 0.62), (1.0, 0.62), (1.0, 0.66), (0.0, 0.66)]), nz.shade(paint, 0.8))


@dataclass(frozen=True)
class Trip:
    """One appearance of a moving actor: where and when, in scene seconds."""

    kind: str
    t0: float
    t1: float
    p0: tuple[float, float]
    p1: tuple[float, float]
    seed: int

    def at(self, t: float) -> tuple[float, float] | None:
        """Ground position (feet / wheels centre) at ``t``, None when not in view."""
        if not self.t0 <= t <= self.t1:
            return None
        f = (t - self.t0) / max(1e-6, self.t1 - self.t0)
        return (
            self.p0[0] + (self.p1[0] - self.p0[0]) * f,
            self.p0[1] + (self.p1[1] - self.p0[1]) * f,
        )

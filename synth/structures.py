"""The five structure classes, drawn at any build ``progress`` and under any light.

``render_structure`` gives a :class:`~synth.pen.Sprite` (albedo, coverage,
cast shadow) that the scene renderer lights together with the rest of the world;
``draw_structure`` draws one straight onto an image under a named light, which is
what the training-image sampler and quick tests use.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from synth.light import Light, apply_light, preset
from synth.pen import Pen, Sprite, cast_shadow, tight_bbox
from synth.shapes_build import draw_extension, draw_scaffolding, draw_shed
from synth.shapes_site import draw_machinery, draw_materials, draw_wall

STRUCTURE_CLASSES = (
    "steel_roof_shed",
    "building_extension",
    "scaffolding",
    "building_materials",
    "construction_machinery",
)

Drawer = Callable[[Pen, np.random.Generator, float, dict[str, Any]], None]
_DRAWERS: dict[str, Drawer] = {
    "steel_roof_shed": draw_shed,
    "building_extension": draw_extension,
    "scaffolding": draw_scaffolding,
    "building_materials": draw_materials,
    "construction_machinery": draw_machinery,
}

ASPECT = {  # typical width / height of each class, for placing boxes
    "steel_roof_shed": (1.3, 2.4),
    "building_extension": (0.9, 1.8),
    "scaffolding": (0.8, 2.0),
    "building_materials": (1.1, 2.2),  # one pile
    "construction_machinery": (1.3, 1.8),
}

XYXY = tuple[int, int, int, int]


def _check(cls: str, w: int, h: int, progress: float) -> None:
    if cls not in _DRAWERS:
        raise ValueError(f"cls must be one of {', '.join(STRUCTURE_CLASSES)}, got {cls!r}")
    if w < 4 or h < 4:
        raise ValueError(f"box must be at least 4×4 pixels, got {w}×{h}")
    if not 0.0 <= progress <= 1.0:
        raise ValueError(f"progress must be in 0..1, got {progress}")


def render_structure(
    cls: str,
    w: int,
    h: int,
    rng: np.random.Generator,
    *,
    progress: float = 1.0,
    sun_dx: float = 0.6,
    style: dict[str, Any] | None = None,
) -> Sprite:
    """Draw ``cls`` filling a ``w`` × ``h`` box at build ``progress`` (0 = not started).

    ``sun_dx`` is how far sideways a shadow falls per unit of height (negative: to the
    left); ``style`` may give ``wall_color`` (BGR 0..1) for an extension matching a wall.
    """
    _check(cls, w, h, progress)
    pad = math.ceil(abs(sun_dx) * h * 0.6) + 2
    pen = Pen(w, h, pad)
    _DRAWERS[cls](pen, rng, progress, dict(style or {}))
    rgb, alpha = pen.finish()
    base = pad + h - 1.0
    shadow = cast_shadow(alpha, base, sun_dx) if alpha.any() else np.zeros_like(alpha)
    return Sprite(rgb=rgb, alpha=alpha, shadow=shadow, pad=pad, bbox=tight_bbox(alpha, pad))


def wall_sprite(rng: np.random.Generator, w: int, h: int, *, sun_dx: float = 0.6) -> Sprite:
    """A yard wall ``w`` × ``h``: brick courses or plaster, a coping on top (no class)."""
    pad = math.ceil(abs(sun_dx) * h * 0.6) + 2
    pen = Pen(w, h, pad)
    draw_wall(pen, rng)
    rgb, alpha = pen.finish()
    shadow = cast_shadow(alpha, pad + h - 1.0, sun_dx)
    return Sprite(rgb=rgb, alpha=alpha, shadow=shadow, pad=pad, bbox=tight_bbox(alpha, pad))


def draw_structure(
    img: np.ndarray,
    cls: str,
    box_xyxy: tuple[float, float, float, float] | np.ndarray,
    rng: np.random.Generator,
    *,
    progress: float = 1.0,
    light: str | Light = "day",
    sun_dx: float | None = None,
    style: dict[str, Any] | None = None,
) -> XYXY | None:
    """Draw ``cls`` into ``box_xyxy`` of ``img`` (BGR uint8 or float 0..1), lit by ``light``.

    Returns the tight box of what was drawn, in image pixels (clipped to the image),
    or None when nothing is visible yet (``progress`` too small) or it is off-image.
    """
    lt = preset(light)
    x1, y1, x2, y2 = (round(float(v)) for v in box_xyxy)
    if sun_dx is None:
        sun_dx = float(rng.uniform(0.3, 0.9) * rng.choice((-1.0, 1.0)))
    sprite = render_structure(
        cls, x2 - x1, y2 - y1, rng, progress=progress, sun_dx=sun_dx, style=style
    )
    composite(img, sprite, x1, y1, lt)
    if sprite.bbox is None:
        return None
    bx1, by1, bx2, by2 = sprite.bbox
    ih, iw = img.shape[:2]
    box = (max(0, x1 + bx1), max(0, y1 + by1), min(iw, x1 + bx2), min(ih, y1 + by2))
    return box if box[2] > box[0] and box[3] > box[1] else None


def composite(img: np.ndarray, sprite: Sprite, x1: int, y1: int, light: Light) -> None:
    """Light ``sprite`` and blend it (with its shadow) into ``img`` with box corner at (x1, y1)."""
    ox, oy = x1 - sprite.pad, y1 - sprite.pad
    ch, cw = sprite.alpha.shape
    ih, iw = img.shape[:2]
    cx1, cy1, cx2, cy2 = max(0, ox), max(0, oy), min(iw, ox + cw), min(ih, oy + ch)
    if cx2 <= cx1 or cy2 <= cy1:
        return
    sl = (slice(cy1 - oy, cy2 - oy), slice(cx1 - ox, cx2 - ox))
    scale = 255.0 if img.dtype == np.uint8 else 1.0
    region = img[cy1:cy2, cx1:cx2].astype(np.float32) / np.float32(scale)
    lit = apply_light(sprite.rgb[sl], light)
    if light.ir:
        lit = np.repeat(lit[..., :1], 3, axis=2)
    sun = float(np.mean(light.sun))
    strength = 0.0 if light.ir else 0.85 * sun / max(1e-3, sun + float(np.mean(light.ambient)))
    region *= (1.0 - strength * sprite.shadow[sl])[..., None]
    a = sprite.alpha[sl][..., None]
    region += a * (lit - region)
    out = np.clip(region * scale, 0, scale)
    img[cy1:cy2, cx1:cx2] = (
        out.astype(img.dtype) if img.dtype != np.uint8 else (out + 0.5).astype(np.uint8)
    )

"""Cheap smooth noise fields and small drawing helpers shared by the generators."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
NOISE_BANK = 4  # sensor noise frames, drawn once and picked at random per frame
NOISE_SCALE = 64.0  # noise banks hold N(0, 1) × this, as int16
U8 = npt.NDArray[np.uint8]


def value_noise(rng: np.random.Generator, h: int, w: int, cell: float, octaves: int = 3) -> F32:
    """Smooth noise in roughly -1..1: random grids of ``cell`` pixels, upscaled and summed."""
    out = np.zeros((h, w), np.float32)
    amp, total = 1.0, 0.0
    for _ in range(octaves):
        gh = max(2, int(h / cell) + 2)
        gw = max(2, int(w / cell) + 2)
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        out += amp * cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        total += amp
        amp *= 0.5
        cell = max(1.0, cell / 2.0)
    return out / np.float32(total)


def color(rgb_hex: str) -> tuple[float, float, float]:
    """A BGR float colour (0..1) from ``#rrggbb``."""
    v = int(rgb_hex.lstrip("#"), 16)
    r, g, b = (v >> 16) & 255, (v >> 8) & 255, v & 255
    return (b / 255.0, g / 255.0, r / 255.0)


def jitter(
    rng: np.random.Generator, c: tuple[float, float, float], amount: float = 0.06
) -> tuple[float, float, float]:
    """``c`` with each channel moved by up to ``amount`` and a common brightness change."""
    k = 1.0 + rng.uniform(-amount, amount) * 2
    b, g, r = (float(np.clip(v * k + rng.uniform(-amount, amount) / 2, 0, 1)) for v in c)
    return (b, g, r)


def shade(c: tuple[float, float, float], k: float) -> tuple[float, float, float]:
    """``c`` made darker (k < 1) or lighter (k > 1)."""
    b, g, r = (float(min(1.0, v * k)) for v in c)
    return (b, g, r)


def poly(
    img: np.ndarray, pts: Sequence[tuple[float, float]] | np.ndarray, c: tuple[float, ...]
) -> None:
    """Fill a polygon given in float pixels (rounded)."""
    arr = np.round(np.asarray(pts, np.float32)).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(img, [arr], c)


def rect(img: np.ndarray, x1: float, y1: float, x2: float, y2: float, c: tuple[float, ...]) -> None:
    """Fill an axis-aligned rectangle given in float pixels."""
    cv2.rectangle(img, (round(x1), round(y1)), (round(x2) - 1, round(y2) - 1), c, -1)


def line(
    img: np.ndarray,
    p: tuple[float, float],
    q: tuple[float, float],
    c: tuple[float, ...],
    width: float,
) -> None:
    """A straight line of ``width`` pixels (at least one)."""
    cv2.line(img, (round(p[0]), round(p[1])), (round(q[0]), round(q[1])), c, max(1, round(width)))


def ellipse(
    img: np.ndarray,
    cx: float,
    cy: float,
    ax: float,
    ay: float,
    c: tuple[float, ...],
    start: float = 0.0,
    end: float = 360.0,
) -> None:
    """A filled ellipse (or sector from ``start`` to ``end`` degrees)."""
    cv2.ellipse(
        img,
        (round(cx), round(cy)),
        (max(1, round(ax)), max(1, round(ay))),
        0.0,
        start,
        end,
        c,
        -1,
    )


def paste(dst: F32, src: F32, alpha: F32, x: int, y: int) -> None:
    """Alpha-blend ``src`` (h, w, 3) onto ``dst`` at top-left ``(x, y)``, clipped to ``dst``."""
    h, w = alpha.shape
    x1, y1 = max(0, x), max(0, y)
    x2, y2 = min(dst.shape[1], x + w), min(dst.shape[0], y + h)
    if x2 <= x1 or y2 <= y1:
        return
    a = alpha[y1 - y : y2 - y, x1 - x : x2 - x, None]
    s = src[y1 - y : y2 - y, x1 - x : x2 - x]
    region = dst[y1:y2, x1:x2]
    region += a * (s - region)


def multiply(dst: F32, factor: F32, x: int, y: int) -> None:
    """Multiply ``dst`` (h, w) or (h, w, 3) by ``factor`` (h, w) at ``(x, y)``, clipped."""
    h, w = factor.shape
    x1, y1 = max(0, x), max(0, y)
    x2, y2 = min(dst.shape[1], x + w), min(dst.shape[0], y + h)
    if x2 <= x1 or y2 <= y1:
        return
    f = factor[y1 - y : y2 - y, x1 - x : x2 - x]
    if dst.ndim == 3:
        dst[y1:y2, x1:x2] *= f[..., None]
    else:
        dst[y1:y2, x1:x2] *= f

"""A :class:`Pen` draws one object as albedo + alpha on a supersampled canvas."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from synth import noise as nz
from synth.noise import F32

Col = tuple[float, float, float]
Pt = tuple[float, float]


class Pen:
    """Draws into an albedo canvas and its coverage; coordinates are box-relative pixels.

    The canvas is the box (``w`` × ``h`` at ``scale`` × supersampling) plus ``pad``
    on every side for shadows; ``(0, 0)`` is the box's top-left corner.
    """

    def __init__(self, w: int, h: int, pad: int, scale: int = 2) -> None:
        self.scale = scale
        self.pad = pad
        self.w = float(w * scale)
        self.h = float(h * scale)
        ch, cw = (h + 2 * pad) * scale, (w + 2 * pad) * scale
        self.rgb = np.zeros((ch, cw, 3), np.float32)
        self.alpha = np.zeros((ch, cw), np.float32)
        self._o = float(pad * scale)

    def _pts(self, pts: list[Pt] | np.ndarray) -> np.ndarray:
        return np.asarray(pts, np.float32).reshape(-1, 2) + self._o

    def poly(self, pts: list[Pt] | np.ndarray, c: Col, a: float = 1.0) -> None:
        """Fill a polygon with colour ``c`` at opacity ``a``."""
        p = self._pts(pts)
        if a >= 1.0:
            nz.poly(self.rgb, p, c)
            nz.poly(self.alpha, p, (1.0,))
            return
        m = np.zeros_like(self.alpha)
        nz.poly(m, p, (a,))
        self.blend(m, c)

    def blend(self, m: F32, c: Col) -> None:
        """Paint colour ``c`` with per-pixel opacity ``m`` (canvas-sized)."""
        col = np.asarray(c, np.float32)
        self.rgb += m[..., None] * (col - self.rgb)
        self.alpha += m * (1.0 - self.alpha)

    def rect(self, x1: float, y1: float, x2: float, y2: float, c: Col, a: float = 1.0) -> None:
        self.poly([(x1, y1), (x2, y1), (x2, y2), (x1, y2)], c, a)

    def line(self, p: Pt, q: Pt, c: Col, width: float) -> None:
        o = self._o
        nz.line(self.rgb, (p[0] + o, p[1] + o), (q[0] + o, q[1] + o), c, width)
        nz.line(self.alpha, (p[0] + o, p[1] + o), (q[0] + o, q[1] + o), (1.0,), width)

    def ellipse(
        self, cx: float, cy: float, ax: float, ay: float, c: Col, start: float = 0, end: float = 360
    ) -> None:
        o = self._o
        nz.ellipse(self.rgb, cx + o, cy + o, ax, ay, c, start, end)
        nz.ellipse(self.alpha, cx + o, cy + o, ax, ay, (1.0,), start, end)

    def texture(self, rng: np.random.Generator, amount: float, cell: float = 3.0) -> None:
        """Vary the drawn albedo by ±``amount`` (paint, dirt, rust)."""
        h, w = self.alpha.shape
        t = nz.value_noise(rng, h, w, cell * self.scale, octaves=2)
        self.rgb *= (1.0 + amount * t)[..., None]
        np.clip(self.rgb, 0.0, 1.0, out=self.rgb)

    def finish(self) -> tuple[F32, F32]:
        """The canvas at output scale: (albedo (H, W, 3), alpha (H, W))."""
        h, w = self.alpha.shape
        size = (w // self.scale, h // self.scale)
        a = cv2.resize(self.alpha, size, interpolation=cv2.INTER_AREA)
        premul = cv2.resize(self.rgb * self.alpha[..., None], size, interpolation=cv2.INTER_AREA)
        rgb = premul / np.maximum(a, 1e-4)[..., None]
        return np.clip(rgb, 0, 1).astype(np.float32), np.clip(a, 0, 1).astype(np.float32)


@dataclass(frozen=True)
class Sprite:
    """A drawn object: albedo, coverage and cast shadow on a canvas around its box.

    The canvas's top-left is at ``(box_x1 - pad, box_y1 - pad)``; ``bbox`` is the tight
    box of what was drawn (coverage > 0.35), relative to the box's top-left.
    """

    rgb: F32
    alpha: F32
    shadow: F32
    pad: int
    bbox: tuple[int, int, int, int] | None


def cast_shadow(alpha: F32, base_y: float, sun_dx: float, squash: float = 0.35) -> F32:
    """Ground shadow of ``alpha`` standing on row ``base_y``: sheared sideways, flattened."""
    h, w = alpha.shape
    # point (x, y) at height z = base_y - y lands at (x + sun_dx * z, base_y - squash * z)
    m = np.array(
        [[1.0, -sun_dx, sun_dx * base_y], [0.0, squash, base_y * (1.0 - squash)]], np.float32
    )
    sh = cv2.warpAffine(alpha, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0)
    sh = cv2.GaussianBlur(sh, (0, 0), 0.8)
    return np.asarray(np.clip(sh, 0, 1) * (1.0 - alpha), np.float32)


def tight_bbox(alpha: F32, pad: int, thresh: float = 0.35) -> tuple[int, int, int, int] | None:
    """Tight box of coverage above ``thresh``, relative to the object's box corner."""
    ys, xs = np.nonzero(alpha > thresh)
    if len(xs) == 0:
        return None
    return (
        int(xs.min()) - pad,
        int(ys.min()) - pad,
        int(xs.max()) + 1 - pad,
        int(ys.max()) + 1 - pad,
    )

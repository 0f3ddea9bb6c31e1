"""Light: day, dusk, colour night and infrared night, and how a scene looks under it.

Surfaces are drawn as *albedo* (BGR reflectance, 0..1). A :class:`Light` turns
albedo into a camera image: ``ambient`` light reaches everything, ``sun`` only
what is sunlit (not in a structure's or a cloud's shadow), ``emissive`` scales
lit windows and street lamps, and ``ir`` switches the camera to its infrared
night mode: grayscale, flat, vegetation bright (chlorophyll reflects near-IR).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from synth.noise import F32

LIGHTS = ("day", "dusk", "night", "ir")
BGR = tuple[float, float, float]


@dataclass(frozen=True)
class Light:
    """Illumination of one frame (colours BGR; 1.0 = bright overcast-free noon)."""

    ambient: BGR
    sun: BGR
    sky: BGR
    emissive: float = 0.0
    ir: bool = False

    @property
    def level(self) -> float:
        """Overall brightness, what a camera's day/night switch looks at."""
        return float(np.mean(self.ambient) + 0.5 * np.mean(self.sun))


PRESETS: dict[str, Light] = {
    "day": Light((0.40, 0.37, 0.34), (0.62, 0.68, 0.72), (0.92, 0.78, 0.62)),
    "dusk": Light((0.20, 0.17, 0.17), (0.12, 0.27, 0.45), (0.55, 0.45, 0.55), emissive=0.4),
    "night": Light((0.055, 0.045, 0.04), (0.0, 0.0, 0.0), (0.09, 0.05, 0.04), emissive=1.0),
    "ir": Light((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), emissive=0.0, ir=True),
}


def preset(name: str | Light) -> Light:
    """The :class:`Light` named ``day``, ``dusk``, ``night`` or ``ir`` (a Light passes through)."""
    if isinstance(name, Light):
        return name
    if name not in PRESETS:
        raise ValueError(f"light must be one of {', '.join(LIGHTS)} or a Light, got {name!r}")
    return PRESETS[name]


def _smooth(a: float, b: float, x: float) -> float:
    t = min(1.0, max(0.0, (x - a) / (b - a)))
    return t * t * (3 - 2 * t)


def _mix(a: BGR, b: BGR, t: float) -> BGR:
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def sun_height(hour: float) -> float:
    """Sine of a simple sun elevation: 0 at 06:00 and 18:30, 1 at 12:15, negative at night."""
    return math.sin(math.pi * ((hour % 24.0) - 6.0) / 12.5)


MAX_GAIN = 5.0
"""Most a colour camera's auto exposure amplifies a dark scene (and its noise)."""


def expose(light: Light, max_gain: float = MAX_GAIN) -> tuple[Light, float]:
    """Auto exposure: the gain a camera applies in dim light, and the light with its sky
    dimmed by that gain (the sky is already bright; only the ground is brought up)."""
    if light.ir:
        return light, 1.0
    gain = float(np.clip(0.33 / max(light.level, 1e-3), 1.0, max_gain))
    if gain > 1.0:
        b, g, r = (min(0.95, c / gain) for c in light.sky)
        light = Light(light.ambient, light.sun, (b, g, r), light.emissive, light.ir)
    return light, gain


IR_SWITCH_LEVEL = 0.11
"""Cameras with ``ir_night`` switch to infrared below this :attr:`Light.level`."""


def light_at(hour: float, *, ir_night: bool = True) -> Light:
    """The light at ``hour`` (0..24, may exceed 24): a smooth day, dusk and night cycle."""
    h = hour % 24.0
    s = sun_height(h) if 6.0 <= h <= 18.5 else -0.5
    if h > 18.5 or h < 6.0:  # twilight continues a little past sunset and before sunrise
        dist = (h - 18.5) if h > 18.5 else (6.0 - h)
        s = -min(0.5, dist / 3.0)
    amb = 0.035 + 0.365 * _smooth(-0.25, 0.45, s)
    sun = 0.75 * _smooth(0.0, 0.4, s)
    warm = 1.0 - _smooth(0.05, 0.45, s)
    day = PRESETS["day"]
    ambient = _mix(day.ambient, (0.20, 0.17, 0.17), warm * 0.6)
    ambient = (ambient[0] * amb / 0.37, ambient[1] * amb / 0.37, ambient[2] * amb / 0.37)
    sun_c = _mix((0.86, 0.94, 1.0), (0.27, 0.6, 1.0), warm)
    sky_day = _mix(day.sky, (0.55, 0.5, 0.75), warm)
    sky = _mix((0.09, 0.05, 0.04), sky_day, _smooth(-0.3, 0.2, s))
    light = Light(
        ambient=ambient,
        sun=(sun_c[0] * sun, sun_c[1] * sun, sun_c[2] * sun),
        sky=sky,
        emissive=1.0 - _smooth(-0.1, 0.25, s),
    )
    if ir_night and light.level < IR_SWITCH_LEVEL:
        return PRESETS["ir"]
    return light


def ir_reflectance(albedo: F32) -> F32:
    """Near-IR brightness of surfaces: luminance, plus a lot for anything green (vegetation)."""
    b, g, r = cv2.split(albedo)
    lum = 0.3 * r + 0.5 * g + 0.2 * b
    veg = np.maximum(g - np.maximum(r, b), 0.0)
    return np.asarray(np.minimum(1.0, 0.75 * lum + 0.15 + 2.6 * veg), np.float32)


def sky_rows(sky: F32) -> int:
    """Rows ``0..n`` that hold any sky (the sky is a band at the top)."""
    rows = np.flatnonzero(sky.max(axis=1) > 0)
    return int(rows[-1]) + 1 if len(rows) else 0


def apply_light(
    albedo: F32,
    light: Light,
    *,
    sunlit: F32 | None = None,
    emissive: F32 | None = None,
    sky: F32 | None = None,
    sky_texture: F32 | None = None,
) -> F32:
    """Camera image (BGR float, 0..1) of ``albedo`` (H, W, 3) under ``light``.

    ``sunlit`` (H, W) is 1 where direct sun reaches, less in shadows; ``emissive``
    (H, W, 3) is light sources (windows, lamps); ``sky`` (H, W) marks the sky, which
    glows in ``light.sky`` colour modulated by ``sky_texture`` (clouds). Infrared
    frames come back with three equal channels (see :func:`apply_ir`).
    """
    if light.ir:
        gray = apply_ir(albedo, sky)
        return np.asarray(cv2.merge([gray, gray, gray]), np.float32)
    amb, sun = light.ambient, light.sun
    if sunlit is None or not any(sun):
        gain = np.asarray([a + s for a, s in zip(amb, sun, strict=True)], np.float32)
        out: np.ndarray = albedo * gain
    else:
        factor = cv2.merge(
            [sunlit * np.float32(s) + np.float32(a) for a, s in zip(amb, sun, strict=True)]
        )
        out = cv2.multiply(albedo, factor)
    if emissive is not None and light.emissive > 0:
        out = cv2.scaleAdd(emissive, float(light.emissive), out)
    if sky is not None and (n := sky_rows(sky)) > 0:
        band = out[:n]
        target = np.asarray(light.sky, np.float32)
        if sky_texture is not None:
            target = sky_texture[:n, :, None] * target
        band += sky[:n, :, None] * (target - band)
    return np.asarray(out, np.float32)


@functools.lru_cache(maxsize=4)
def _ir_spot(h: int, w: int) -> F32:
    """The IR illuminator's hot spot: brightest low in the middle of the frame."""
    yy = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None]
    xx = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :]
    spot = np.float32(1.0) - np.float32(0.25) * (xx * xx + 0.6 * (yy - 0.4) ** 2)
    return np.asarray(spot * np.float32(0.55), np.float32)


def apply_ir(albedo: F32, sky: F32 | None = None) -> F32:
    """Infrared night as one gray channel (H, W): flat, vegetation bright, sky dark."""
    ir = ir_reflectance(albedo)
    spot = _ir_spot(*ir.shape)
    gray = (ir + np.float32(0.12 / 0.55)) * spot
    if sky is not None and (n := sky_rows(sky)) > 0:
        gray[:n] += sky[:n] * (np.float32(0.07) - gray[:n])
    return np.asarray(gray, np.float32)

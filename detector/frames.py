"""Per-sample image preparation: downscale, light mode, normalisation, census texture distance.

Everything the change finder compares works on a small grey image (``analysis_width``
pixels wide) that is globally normalised (zero mean, unit standard deviation) and
lightly blurred, so that a brighter or darker frame — sun, clouds, dusk, auto gain —
compares equal to the reference. What is compared is *texture*: for every pixel, the
signs of the differences to neighbours two pixels away (a census transform). A
new structure changes those signs; a global or soft local change of light does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np

from streams.picture import Picture

# neighbours at distance 2, one per pair of opposite directions (dy, dx): averaged over a
# window, each pixel pair is counted once, as the full 8-neighbour census counts it twice
_OFFSETS = ((0, 2), (2, -2), (2, 0), (2, 2))
_PAD = 2
LOG_OFFSET = 10.0  # keeps the log from amplifying sensor noise in the dark
INTENSITY_SCALE = 2.5  # brightness residual (normalised units) per unit of census distance
COLOR_SCALE = 0.5  # colour residual (log ratio) per unit of census distance
_CHROMA_MATRIX = np.array([[0, -1, 1], [1, -1, 0]], np.float32)  # BGR → (R − G, B − G)


class LightMode(StrEnum):
    """Which reference a frame is compared with."""

    DAY = "day"
    NIGHT = "night"
    INFRARED = "ir"


@dataclass(frozen=True)
class LightThresholds:
    """Frame statistics that choose the light mode (0–255 scale), with hysteresis."""

    ir_chroma: float = 3.0
    night_luma: float = 55.0
    hysteresis: float = 8.0

    def classify(self, luma: float, chroma: float, previous: LightMode | None) -> LightMode:
        """IR when the frame has (almost) no colour; night when it is dark; else day."""
        h = self.hysteresis
        ir_limit = self.ir_chroma + (h / 4 if previous is LightMode.INFRARED else 0.0)
        if chroma < ir_limit:
            return LightMode.INFRARED
        night_limit = self.night_luma + (h if previous is LightMode.NIGHT else -h / 2)
        return LightMode.NIGHT if luma < night_limit else LightMode.DAY


class LightTrend:
    """Tells steady light from fast changes (dusk, dawn, a passing cloud).

    The frame's mean luma is followed with a ``time_constant`` (stream seconds); a frame
    more than ``tolerance`` away from that trend is not steady.
    """

    def __init__(self, time_constant: float = 1800.0, tolerance: float = 0.15) -> None:
        self.time_constant = time_constant
        self.tolerance = tolerance
        self._last: tuple[float, float] | None = None  # (t, trend)

    def steady(self, luma: float, t: float) -> bool:
        """Is a frame of ``luma`` at ``t`` steady light? It then joins the trend."""
        self._last = self._next(luma, t)
        return abs(luma - self._last[1]) <= self.tolerance * max(self._last[1], 10.0)

    def peek(self, luma: float, t: float) -> bool:
        """:meth:`steady` without taking the frame into the trend (a sample not in view)."""
        trend = self._next(luma, t)[1]
        return abs(luma - trend) <= self.tolerance * max(trend, 10.0)

    def _next(self, luma: float, t: float) -> tuple[float, float]:
        last_t, trend = (t, luma) if self._last is None else self._last
        k = float(-np.expm1(-max(t - last_t, 0.0) / self.time_constant))
        return (t, trend + k * (luma - trend))


@dataclass(frozen=True)
class Prepared:
    """One sample ready for comparison: small colour image, normalised grey, its statistics."""

    small_bgr: np.ndarray  # uint8 (h, w, 3)
    gray: np.ndarray  # uint8 (h, w)
    norm: np.ndarray  # float32 (h, w): blurred log luminance, zero mean, unit std
    chroma_map: np.ndarray  # float32 (h, w, 2): log(R/G), log(B/G), blurred
    luma: float
    chroma: float
    scale: float  # analysis pixels per source pixel


def analysis_size(width: int, height: int, analysis_width: int) -> tuple[int, int]:
    """(w, h) of the analysis image: ``analysis_width`` wide (never upscaled), same aspect."""
    w = min(width, analysis_width)
    h = max(8, round(height * w / width))
    return w, h


def frame_stats(small_bgr: np.ndarray) -> tuple[float, float]:
    """Mean luma and mean chroma (how far pixels are from grey) on a 0–255 scale."""
    sub = small_bgr[::2, ::2].astype(np.int16)
    b, g, r = sub[..., 0], sub[..., 1], sub[..., 2]
    luma = float((0.114 * b + 0.587 * g + 0.299 * r).mean())
    chroma = float((np.abs(b - g) + np.abs(g - r)).mean() / 2.0)
    return luma, chroma


def normalise(gray: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    """Blur lightly, take the log (light multiplies, so shadows become offsets), then scale
    to zero mean and unit standard deviation (float32)."""
    g: np.ndarray = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), sigma)
    g += np.float32(LOG_OFFSET)
    g = cv2.log(g)
    mean, std = cv2.meanStdDev(g)
    np.subtract(g, np.float32(mean[0, 0]), out=g)  # in place, float32: no per-sample copies
    np.divide(g, np.float32(max(float(std[0, 0]), 1e-3)), out=g)
    return g


def prepare(frame: Picture | np.ndarray, analysis_width: int) -> Prepared:
    """Downscale a source frame (a decoded picture, or a BGR uint8 H×W×3 array) and compute
    its normalised grey image and statistics. A decoded picture is converted and scaled in
    one step from the decoder's YUV; the full-size BGR image is never made here."""
    picture = Picture.of(frame)
    w0, h0 = picture.size
    w, h = analysis_size(w0, h0, analysis_width)
    small = picture.scaled(w, h)
    luma, chroma = frame_stats(small)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return Prepared(small, gray, normalise(gray), log_chroma(small), luma, chroma, w / w0)


def log_chroma(small_bgr: np.ndarray, sigma: float = 1.5) -> np.ndarray:
    """Colour as log(R/G) and log(B/G) (float32 h×w×2): brightness changes cancel out."""
    f: np.ndarray = cv2.GaussianBlur(small_bgr.astype(np.float32), (0, 0), sigma)
    f += np.float32(LOG_OFFSET)
    # one pass from B, G, R to (R − G, B − G): the same values as split, subtract, merge
    return np.asarray(cv2.transform(cv2.log(f), _CHROMA_MATRIX), np.float32)


def is_light_source(gray: np.ndarray, box: tuple[int, int, int, int], luma: float) -> bool:
    """True for a lit window or lamp in a dim frame: a region far brighter than the scene.

    Lights switched on at dusk stay on all night and look like a stable change; in a
    dim frame (mean luma under 90) a region whose box is at least 15 % lit (over
    2.2× the frame's mean luma, and over 120) is taken for lights, not for a structure.
    """
    if luma >= 90.0:
        return False
    x1, y1, x2, y2 = box
    sub = gray[y1:y2, x1:x2]
    if sub.size == 0:
        return False
    return float(np.mean(sub > max(120.0, 2.2 * luma))) >= 0.15


def neighbour_differences(norm: np.ndarray) -> np.ndarray:
    """float32 (4, h, w): neighbour minus centre for the census directions."""
    h, w = norm.shape
    p = cv2.copyMakeBorder(norm, _PAD, _PAD, _PAD, _PAD, cv2.BORDER_REFLECT)
    out = np.empty((len(_OFFSETS), h, w), np.float32)
    for k, (dy, dx) in enumerate(_OFFSETS):
        np.subtract(p[_PAD + dy : _PAD + dy + h, _PAD + dx : _PAD + dx + w], norm, out=out[k])
    return out


def noise_level(cur_d: np.ndarray, ref_d: np.ndarray) -> float:
    """Robust spread of the neighbour differences between two images (noise + misalignment)."""
    a = cur_d[::2, ::4, ::4]
    b = ref_d[::2, ::4, ::4]
    return float(1.4826 * np.median(np.abs(a - b)))


def census_distance(cur_d: np.ndarray, ref_d: np.ndarray, deadband: float) -> np.ndarray:
    """Fraction (0–1, float32 h×w) of directions whose sign differs where either is clear.

    A direction counts only where at least one image has a difference larger than
    ``deadband``: flat areas where noise flips signs at random do not count.
    """
    flips = np.not_equal(cur_d > 0, ref_d > 0)
    clear = np.abs(cur_d) > deadband
    clear |= np.abs(ref_d) > deadband
    flips &= clear
    votes = flips.view(np.uint8).sum(axis=0, dtype=np.uint8)  # in place, bytes: 2× faster
    return votes.astype(np.float32) * np.float32(1.0 / len(_OFFSETS))


def smooth_residual(diff: np.ndarray) -> np.ndarray:
    """|diff| after removing its smooth part (float32 h×w).

    In the log domain a cloud shadow or a lamp adds a smooth offset; a coarse median of
    the difference (a fifth of the width across) estimates it, robust to an object that
    covers less than half of that window, and is taken away. What remains is a local
    change of brightness or colour: a flat new roof on flat ground that census alone
    would see only at its outline.
    """
    h, w = diff.shape
    sw, sh = max(8, w // 4), max(8, h // 4)
    small = cv2.resize(diff, (sw, sh), interpolation=cv2.INTER_AREA)
    q = np.clip(small * 32.0 + 128.0, 0, 255).astype(np.uint8)
    k = max(5, (sw // 5) | 1)
    smooth = (cv2.medianBlur(q, k).astype(np.float32) - 128.0) / 32.0
    smooth = cv2.resize(smooth, (w, h), interpolation=cv2.INTER_LINEAR)
    return np.abs(diff - smooth)


def _least_squares(basis: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Coefficients minimising ``|basis @ c - y|`` (normal equations: a 3×3 solve instead of
    an SVD of thousands of rows; the values are samples of a normalised image, so the
    system is usually well conditioned). ``lstsq`` when it is not (a flat picture)."""
    gram = basis.T @ basis
    d = np.sqrt(np.diag(gram))
    if np.all(d > 0) and abs(np.linalg.det(gram / np.outer(d, d))) > 1e-10:
        return np.asarray(np.linalg.solve(gram, basis.T @ y))
    return np.asarray(np.linalg.lstsq(basis, y, rcond=None)[0])


def tone_difference(cur: np.ndarray, ref: np.ndarray, degree: int = 2) -> np.ndarray:
    """``cur`` minus ``ref`` passed through the global tone curve that best maps it onto
    ``cur`` (a polynomial fitted on a subsample, refitted once without outliers).

    Exposure, gamma, haze and colour balance change every pixel through one monotone
    curve; taking that curve out leaves what changed in the scene itself.
    """
    x = ref[::5, ::5].ravel().astype(np.float64)
    y = cur[::5, ::5].ravel().astype(np.float64)
    basis = np.stack([x**k for k in range(degree + 1)], axis=1)
    coef = _least_squares(basis, y)
    res = np.abs(y - basis @ coef)
    keep = res <= 3.0 * float(res.mean()) + 1e-6  # refit without the changed places
    if int(keep.sum()) > 3 * (degree + 1):
        coef = _least_squares(basis[keep], y[keep])
    fitted = np.full(ref.shape, np.float32(coef[degree]), np.float32)
    for k in range(degree - 1, -1, -1):  # Horner, in place
        fitted *= ref
        fitted += np.float32(coef[k])
    return np.subtract(cur, fitted, out=fitted, dtype=np.float32)


def _above_noise(resid: np.ndarray, scale: float) -> np.ndarray:
    """Residual minus twice its robust global spread, in census-distance units."""
    spread = float(1.4826 * np.median(resid[::4, ::4]))
    return np.maximum(resid - 2.0 * spread, 0.0) * np.float32(1.0 / scale)


def _color_residual(cur: np.ndarray, ref: np.ndarray, channel: int) -> np.ndarray:
    """Smooth residual of one colour channel after its tone curve (on contiguous copies
    of the channel: the fit and the maps run faster on them)."""
    a, b = np.ascontiguousarray(cur[..., channel]), np.ascontiguousarray(ref[..., channel])
    return smooth_residual(tone_difference(a, b, 1))


def texture_change(
    cur: np.ndarray,
    ref: np.ndarray,
    window: int,
    cur_color: np.ndarray | None = None,
    ref_color: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Local change score (h×w float32, census-distance units averaged over ``window``)
    and the noise level used: census distance, plus the brightness residual over
    ``INTENSITY_SCALE``, plus (when colour is given) the colour residual over
    ``COLOR_SCALE``."""
    cur_d = neighbour_differences(cur)
    ref_d = neighbour_differences(ref)
    noise = noise_level(cur_d, ref_d)
    deadband = float(np.clip(2.5 * noise, 0.12, 0.8))
    score = census_distance(cur_d, ref_d, deadband)
    score += _above_noise(smooth_residual(tone_difference(cur, ref)), INTENSITY_SCALE)
    if cur_color is not None and ref_color is not None:
        resid = np.maximum(
            _color_residual(cur_color, ref_color, 0), _color_residual(cur_color, ref_color, 1)
        )
        score += _above_noise(resid, COLOR_SCALE)
    return cv2.blur(score, (window, window)), noise

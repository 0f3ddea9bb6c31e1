"""Registering small camera movement away: phase correlation on the analysis image.

Wind sway and a re-aim by a few pixels after maintenance move the whole picture;
compared with the reference unregistered, every edge would look like a change. The
shift between the reference and the current frame is measured by phase correlation
(one FFT pair on the small normalised image, sub-pixel) and the frame is warped onto
the reference before comparing. Pixels the warp leaves uncovered are marked invalid.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Shift:
    """Translation of the current frame relative to the reference, in analysis pixels."""

    dx: float
    dy: float
    response: float

    @property
    def magnitude(self) -> float:
        return float(np.hypot(self.dx, self.dy))

    @property
    def xy(self) -> tuple[float, float]:
        return (self.dx, self.dy)

    def scaled(self, factor: float) -> Shift:
        """The same shift for an image ``factor`` times as wide (negative: the inverse)."""
        return Shift(self.dx * factor, self.dy * factor, self.response)


NO_SHIFT = Shift(0.0, 0.0, 1.0)


class Registrar:
    """Estimates and removes the shift between a frame and the reference.

    ``max_shift``: largest shift accepted, as a fraction of the image width (larger
    answers are treated as a failed measurement: the camera was moved for real and
    the reference will re-learn). ``min_response``: phase-correlation peak below which
    the measurement is not trusted.
    """

    def __init__(self, max_shift: float = 0.06, min_response: float = 0.05) -> None:
        if not 0 < max_shift <= 0.5:
            raise ValueError(f"max_shift must be in (0, 0.5], got {max_shift}")
        if not 0 <= min_response < 1:
            raise ValueError(f"min_response must be in [0, 1), got {min_response}")
        self.max_shift = max_shift
        self.min_response = min_response
        self._window: np.ndarray | None = None

    def _hann(self, shape: tuple[int, int]) -> np.ndarray:
        if self._window is None or self._window.shape != shape:
            self._window = cv2.createHanningWindow((shape[1], shape[0]), cv2.CV_32F)
        return self._window

    def estimate(self, cur: np.ndarray, ref: np.ndarray) -> Shift:
        """Shift of ``cur`` relative to ``ref`` (both float32, same shape)."""
        # windowed copies: cv2.phaseCorrelate applies its window argument in place
        win = self._hann(cur.shape)
        (dx, dy), response = cv2.phaseCorrelate(ref * win, cur * win)
        limit = self.max_shift * cur.shape[1]
        if response < self.min_response or np.hypot(dx, dy) > limit:
            return Shift(0.0, 0.0, float(response))
        if np.hypot(dx, dy) < 0.3:  # below a third of a pixel: blur hides it, skip the warp
            return Shift(0.0, 0.0, float(response))
        return Shift(float(dx), float(dy), float(response))

    @staticmethod
    def resized(image: np.ndarray, size: tuple[int, int], shift: Shift, interp: int) -> np.ndarray:
        """``image`` resized to ``size`` (w, h), then moved by ``shift`` (in the new pixels)."""
        return Registrar.align(cv2.resize(image, size, interpolation=interp), shift)[0]

    @staticmethod
    def align(image: np.ndarray, shift: Shift) -> tuple[np.ndarray, np.ndarray]:
        """``image`` moved back onto the reference, and a bool mask of valid pixels."""
        h, w = image.shape[:2]
        if shift.dx == 0.0 and shift.dy == 0.0:
            return image, np.ones((h, w), bool)
        m = np.array([[1, 0, -shift.dx], [0, 1, -shift.dy]], np.float32)
        warped = cv2.warpAffine(
            image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        valid = np.ones((h, w), bool)
        pad_x = int(np.ceil(abs(shift.dx))) + 2
        pad_y = int(np.ceil(abs(shift.dy))) + 2
        if shift.dx > 0:
            valid[:, w - pad_x :] = False
        elif shift.dx < 0:
            valid[:, :pad_x] = False
        if shift.dy > 0:
            valid[h - pad_y :, :] = False
        elif shift.dy < 0:
            valid[:pad_y, :] = False
        return warped, valid

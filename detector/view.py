"""Is this sample the camera's own view? PTZ tours, re-aiming, covered lenses, frozen frames.

A sample that does not show the camera's view teaches nothing and proves nothing: it
must neither enter the references nor feed or age the tracks. :class:`ViewGuard`
tells such samples apart, before anything else runs on them:

- **covered** — the picture has (almost) no detail left (a bag over the dome, a hand,
  thick fog on the lens): the spread of the grey image under ``COVERED_SPREAD``;
- **flash** — the picture is blown out in one sample (a floodlight, lightning, high
  beams into the lens): most pixels saturated, or the mean luma over ``FLASH_JUMP`` ×
  its recent trend;
- **frozen** — the recorder repeats one frame (the grey image identical to the last
  sample's to within ``FROZEN_DIFF``, ``FROZEN_REPEATS`` times in a row; live sensors
  never give the same picture twice); once frozen, a picture within ``FROZEN_NEAR`` of
  the frozen one is still that frame (a recorder that re-encodes its repeats gives
  copies that differ by a fraction of a grey level now and then);
- **away** — another view (a PTZ dome on its preset tour, a camera turned): compared
  with the reference, more than ``AWAY_SHARE`` of the picture differs (no structure
  covers half the view), or the registration's phase-correlation peak collapses under
  ``AWAY_PEAK_DROP`` × its usual height while a tenth of the picture differs in
  steady light (the more differs, the less of a collapse it takes: under half the
  usual height with three tenths differing).

Such samples are skipped and counted (``counts``, by reason; :attr:`away` in all). When
the view returns the pipeline resumes where it was, without a new warm-up (a preset
that lands a few pixels off is registered as usual). A view that does not come back
within ``reaim_after`` seconds of stream time is the camera's new view: the caller
learns it afresh (``changes`` counts these, and a warning says so once per change). A
lens covered or a recorder frozen for that long is said once too, and stays skipped.
"""

from __future__ import annotations

import logging
from collections import Counter
from enum import StrEnum

import numpy as np

from detector.change import threshold_for
from detector.frames import Prepared

log = logging.getLogger(__name__)

COVERED_SPREAD = 4.0  # std of the grey image (0..255) under which nothing is visible
FLASH_SATURATED = 0.6  # share of pixels at ≥ 250 that makes a flash
FLASH_JUMP = 2.2  # mean luma over this × its trend in one sample: a flash
FROZEN_DIFF = 0.05  # mean |Δ grey| (0..255) under which two samples are the same frame
FROZEN_REPEATS = 2  # the same frame this many times again: the recorder is frozen
FROZEN_NEAR = 1.0  # mean |Δ grey| under which a picture is still the frozen one (re-encoded
# copies of one frame differ by up to 0.8; live samples minutes apart by 1.7 and more)
AWAY_SHARE = 0.5  # share of the picture changed that no structure can explain
AWAY_PEAK_DROP = 0.3  # correlation peak under this × its usual height: another view
AWAY_PEAK_SHARE = 0.1  # ... while at least this share of the picture differs; for each
AWAY_PEAK_MAX = 0.5  # further share differing the peak may be as much higher, up to this
PEAK_FOLLOW = 0.1  # how fast the usual peak height follows the samples in view


class ViewState(StrEnum):
    """What a sample shows (the camera state the worker reports)."""

    OK = "ok"
    AWAY = "away"
    COVERED = "covered"
    FLASH = "flash"
    FROZEN = "frozen"


class ViewGuard:
    """Tells samples that show the camera's own view from those that do not (see module)."""

    def __init__(self, camera: str, reaim_after: float) -> None:
        if reaim_after <= 0:
            raise ValueError(f"reaim_after must be > 0 s, got {reaim_after}")
        self.camera = camera
        self.reaim_after = reaim_after
        self.counts: Counter[ViewState] = Counter()
        self.changes = 0  # views that never came back: learnt afresh
        self.state = ViewState.OK
        self._away_since: float | None = None
        self._last_gray: np.ndarray | None = None
        self._luma_trend: float | None = None
        self._usual_peak: float | None = None
        self._told = False
        self._repeats = 0
        self._frozen: np.ndarray | None = None  # the repeated picture, while frozen

    @property
    def away(self) -> int:
        """Samples skipped because they did not show the camera's view (all reasons)."""
        return sum(n for s, n in self.counts.items() if s is not ViewState.OK)

    def reset_peak(self) -> None:
        """Forget the usual correlation peak (another light mode, another reference)."""
        self._usual_peak = None

    def check_frame(self, prep: Prepared) -> ViewState:
        """What the picture alone says: covered, flash, frozen, or OK (compare it next)."""
        gray = prep.gray[::2, ::2]  # every other pixel tells these apart as well, 4× cheaper
        last, self._last_gray = self._last_gray, gray
        trend = self._luma_trend
        saturated = float(np.mean(gray >= 250))
        if saturated > FLASH_SATURATED or (
            trend is not None and prep.luma > FLASH_JUMP * max(trend, 20.0)
        ):
            return ViewState.FLASH
        if float(gray.std()) < COVERED_SPREAD:
            return ViewState.COVERED
        frozen, self._frozen = self._frozen, None
        if frozen is not None and frozen.shape == gray.shape and _same(gray, frozen, FROZEN_NEAR):
            self._frozen = frozen  # still the frozen frame, re-encoded
            return ViewState.FROZEN
        if last is not None and last.shape == gray.shape and _same(gray, last, FROZEN_DIFF):
            self._repeats += 1
            if self._repeats >= FROZEN_REPEATS:
                self._frozen = gray
                return ViewState.FROZEN
        else:
            self._repeats = 0
        return ViewState.OK

    def check_view(
        self, distance: np.ndarray, valid: np.ndarray, peak: float, steady: bool
    ) -> ViewState:
        """Compared with the reference: is it another view?"""
        share = float(np.mean(distance[valid] > threshold_for(0.5))) if valid.any() else 0.0
        usual = peak if self._usual_peak is None else self._usual_peak
        drop = min(AWAY_PEAK_MAX, AWAY_PEAK_DROP + share - AWAY_PEAK_SHARE)
        lost = steady and share > AWAY_PEAK_SHARE and peak < max(0.05, drop * usual)
        return ViewState.AWAY if share > AWAY_SHARE or lost else ViewState.OK

    def in_view(self, prep: Prepared, peak: float | None) -> None:
        """A sample showing the view: follow its statistics (``peak``: its registration's
        correlation peak; None during a warm-up, with nothing to register onto)."""
        if self.state is not ViewState.OK:
            log.info("camera %s: view back after %s", self.camera, self.state.value)
        self.state = ViewState.OK
        self._away_since = None
        trend = prep.luma if self._luma_trend is None else self._luma_trend
        self._luma_trend = trend + 0.3 * (prep.luma - trend)
        if peak is not None:
            usual = peak if self._usual_peak is None else self._usual_peak
            self._usual_peak = usual + PEAK_FOLLOW * (peak - usual)

    def skipped(self, state: ViewState, t: float) -> bool:
        """Count a sample that is not the view; True when the view has been gone for
        ``reaim_after``: the camera looks elsewhere for good and must learn its new view."""
        self.counts[state] += 1
        if self.state is ViewState.OK:
            log.info("camera %s: %s, samples skipped", self.camera, state.value)
        self.state = state
        if self._away_since is None:
            self._away_since = t
            self._told = False
        if t - self._away_since < self.reaim_after:
            return False
        if state is not ViewState.AWAY:  # a covered or frozen camera is a fault, not a view
            if not self._told:
                log.warning(
                    "camera %s: %s for %.0f s", self.camera, state.value, t - self._away_since
                )
                self._told = True
            return False
        log.warning(
            "camera %s: the view has not come back for %.0f s (%s): learning the new view",
            self.camera,
            t - self._away_since,
            state.value,
        )
        self.changes += 1
        self._away_since = None
        self._usual_peak = None
        self._luma_trend = None
        self.state = ViewState.OK
        return True

    def relearnt(self, prep: Prepared) -> None:
        """The new view is being learnt: its frames are the view from now on."""
        self._luma_trend = prep.luma


def _same(a: np.ndarray, b: np.ndarray, limit: float) -> bool:
    """Are two grey images the same picture (mean |Δ grey| under ``limit``)?"""
    return float(np.mean(np.abs(a.astype(np.int16) - b))) < limit

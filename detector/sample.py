"""The values the pipeline's steps pass each other: per-camera state and one sample.

:class:`CameraState` is built once, at a camera's first frame (its size fixes the zone
maps, the references and the change finder). :class:`Sample` is one sampled frame
registered onto its light mode's reference and compared with it; every step after the
comparison reads it and none changes it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.change import ChangeFinder, ChangeResult
from detector.frames import LightMode, Prepared
from detector.reference import Reference, ReferenceSet
from detector.registration import Shift
from detector.reporting import EventMaker
from detector.zonemaps import ZoneMaps
from streams.picture import Picture


@dataclass(frozen=True)
class CameraState:
    """Per-camera state, built once at the first frame."""

    maps: ZoneMaps
    refs: ReferenceSet
    finder: ChangeFinder
    events: EventMaker
    frame_size: tuple[int, int]  # source pixels (w, h)


@dataclass(frozen=True)
class Sample:
    """One sample aligned to its light mode's reference: what the steps after the
    comparison read (made once per sample, never changed)."""

    @dataclass(frozen=True)
    class Frame:
        """The sampled frame as it came: stream time, clock time, source pts, pictures."""

        t: float
        wall: float | None
        pts: float
        frame: Picture  # the source picture (full-size BGR on demand: evidence, models)
        prep: Prepared  # analysis-size maps

    taken: Frame
    mode: LightMode
    ref: Reference
    shift: Shift
    aligned: np.ndarray  # normalised grey, registered onto the reference
    chroma: np.ndarray  # colour maps, registered
    gray: np.ndarray  # grey, registered
    in_view: np.ndarray  # bool: pixels the registration did not move out of view
    comparable: np.ndarray  # bool: in view, watched, known to the reference
    result: ChangeResult
    steady: bool  # light like the reference's and not changing fast

    @property
    def luma(self) -> float:
        return self.taken.prep.luma

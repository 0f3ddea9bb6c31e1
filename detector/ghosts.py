"""Ghosts: a change that is something leaving, not something new.

A reference can learn an object that later leaves — a van standing in a zone through a
warm-up, through the first infrared hours, or crept in by slow adaptation. The place
then differs from that reference once the van has gone; that difference is the scene
returning to normal. :func:`departed` tells it apart at confirmation time, so it is
absorbed into the reference instead of being reported:

- the place now blends in with its surroundings where the reference showed something
  standing out from them (:func:`looks_departed`; by day colour counts too);
- or the transient model finds a person, vehicle or animal over the change in the
  reference picture (``TransientFilter.departed``), where the frame shows none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from detector.boxes import Box
from detector.registration import Shift
from detector.tracks import Track
from detector.transient import TransientFilter


@dataclass(frozen=True)
class Look:
    """The current sample and its reference at analysis size (colour maps by day only)."""

    norm: np.ndarray
    reference: np.ndarray
    chroma: np.ndarray | None = None
    reference_chroma: np.ndarray | None = None


def departed(
    track: Track,
    look: Look,
    comparable: bool,
    before: np.ndarray,
    transient: TransientFilter | None,
    changed: np.ndarray,
    scale: float,
    shift: Shift,
) -> bool:
    """Is ``track`` something that left? ``comparable``: the reference knows its place;
    ``before``: the reference picture at source size, aligned like the frame."""
    if comparable and looks_departed(
        look.norm, look.reference, track.box, look.chroma, look.reference_chroma
    ):
        return True
    if transient is None:
        return False
    return transient.departed(before, track, changed, scale, (shift.dx, shift.dy))


DEPARTED_CONTRAST = 1.0  # the reference's box stood out from its surroundings at least this
DEPARTED_BLENDS = 0.35  # ... and the current box stands out less than this (it blends in)
DEPARTED_RATIO = 0.4  # ... and less than this share of what the reference showed
DEPARTED_CONTRAST_DAY = 1.5  # the same by day, brightness and both colour ratios summed
DEPARTED_BLENDS_DAY = 0.8
COLOUR_STANDS_OUT = 0.3  # by day: a colour ratio standing out this much more than it did


@dataclass(frozen=True)
class Contrast:
    """How ``box`` differs from the ring around it (half its size wide) in one picture:
    the median offset over the ring's spread and the log ratio of their spreads."""

    offset: float
    ratio: float  # > 0: the box is more textured than its ring

    @classmethod
    def of(cls, image: np.ndarray, box: Box) -> Contrast:
        x1, y1, x2, y2 = box
        h, w = image.shape[:2]
        mx, my = max(3, (x2 - x1) // 2), max(3, (y2 - y1) // 2)
        ox1, oy1, ox2, oy2 = max(0, x1 - mx), max(0, y1 - my), min(w, x2 + mx), min(h, y2 + my)
        outer = image[oy1:oy2, ox1:ox2]
        ring = np.ones(outer.shape[:2], bool)
        ring[y1 - oy1 : y2 - oy1, x1 - ox1 : x2 - ox1] = False
        inner, around = image[y1:y2, x1:x2].ravel(), outer[ring].ravel()
        if inner.size < 16 or around.size < 16:
            return cls(0.0, 0.0)
        q1, med, q3 = np.percentile(around, (25, 50, 75))
        spread = float(q3 - q1) / 1.35 + 0.1
        offset = abs(float(np.median(inner)) - float(med)) / spread
        return cls(offset, float(np.log((inner.std() + 0.05) / (around.std() + 0.05))))

    def score(self, flat_blends: bool = False) -> float:
        """Offset plus spread ratio. ``flat_blends``: a box more even than its ring does
        not stand out by its spread (a patch of bare ground in a ring that crosses other
        ground; a van, a skip, a pile stands out by more texture than the ground, if by
        texture at all)."""
        return self.offset + (max(0.0, self.ratio) if flat_blends else abs(self.ratio))


def stands_out(image: np.ndarray, box: Box, *, flat_blends: bool = False) -> float:
    """How much ``box`` differs from the ring around it in ``image`` (``Contrast.score``)."""
    return Contrast.of(image, box).score(flat_blends)


def looks_departed(
    current: np.ndarray,
    reference: np.ndarray,
    box: Box,
    current_chroma: np.ndarray | None = None,
    reference_chroma: np.ndarray | None = None,
) -> bool:
    """Did something leave ``box``? The reference showed it standing out from its
    surroundings and the place now blends in with them: a van driven off after the
    reference learnt it (a warm-up, a first night), the scene returning to normal.

    By day (``*_chroma``: (h, w, 2) colour maps) colour counts too: a blue roof on grass
    stands out in colour even where its brightness blends in. Either brightness and both
    colour ratios summed tell a departure, or brightness alone does — the reference
    showing something brighter, darker or more textured than the ground there, not a
    patch more even than its ring, and the place now neither (bare ground, even if more
    even than its ring) — while neither colour ratio stands out now more than it did (a
    tan van gone from worn ground: its colour told nothing either way)."""
    was, now = Contrast.of(reference, box), Contrast.of(current, box)
    if current_chroma is None or reference_chroma is None:
        return _blends_now(was.score(), now.score(), DEPARTED_CONTRAST, DEPARTED_BLENDS)
    colour_was = [Contrast.of(reference_chroma[..., k], box).score() for k in range(2)]
    colour_now = [Contrast.of(current_chroma[..., k], box) for k in range(2)]
    summed_was = was.score() + sum(colour_was)
    summed_now = now.score() + sum(c.score() for c in colour_now)
    if _blends_now(summed_was, summed_now, DEPARTED_CONTRAST_DAY, DEPARTED_BLENDS_DAY):
        return True
    colour_kept = all(
        c.score(flat_blends=True) <= w + COLOUR_STANDS_OUT
        for c, w in zip(colour_now, colour_was, strict=True)
    )
    standing, empty = was.score(flat_blends=True), now.score(flat_blends=True)
    return colour_kept and _blends_now(standing, empty, DEPARTED_CONTRAST, DEPARTED_BLENDS)


def _blends_now(before: float, now: float, contrast: float, blends: float) -> bool:
    return before >= contrast and now < blends and now < DEPARTED_RATIO * before

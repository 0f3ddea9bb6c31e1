"""Finding changed regions: texture distance to the reference, stability, connected regions.

A pixel is *changed* when its local change score against the reference (census
distance plus brightness and colour residuals, ``frames.texture_change``) exceeds the
threshold its zone's sensitivity gives; it is *stable* once it has been changed in
``stable_samples`` consecutive samples. People walking through and traffic change
pixels for a sample or two and never become stable, so they never become candidates
(and the transient model is not even run for them). Stable changed pixels are
grouped into regions (closing, connected components) with a box, an area and a
strength (mean distance over the threshold).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from detector.frames import texture_change

# change-score threshold at sensitivity 0 and 1 (linear in between)
THRESHOLD_AT_0 = 0.36
THRESHOLD_AT_1 = 0.10


def threshold_for(sensitivity: float) -> float:
    """Change-score threshold for a sensitivity in 0..1 (1 reports faint changes)."""
    if not 0 <= sensitivity <= 1:
        raise ValueError(f"sensitivity must be in [0, 1], got {sensitivity}")
    return THRESHOLD_AT_0 + (THRESHOLD_AT_1 - THRESHOLD_AT_0) * sensitivity


@dataclass(frozen=True)
class Region:
    """A connected group of stable changed pixels, in analysis pixels."""

    box: tuple[int, int, int, int]  # x1, y1, x2, y2 (exclusive ends)
    area: int  # pixels
    strength: float  # mean distance / threshold inside the region (≥ 1)


@dataclass(frozen=True)
class ChangeResult:
    distance: np.ndarray  # float32 local census distance
    changed: np.ndarray  # bool: over threshold inside the watched, valid area
    stable: np.ndarray  # bool: changed for stable_samples samples in a row
    regions: list[Region]
    noise: float


class ChangeFinder:
    """Compares aligned samples with the reference and keeps per-pixel change streaks."""

    def __init__(self, shape: tuple[int, int], stable_samples: int = 3, window: int = 7) -> None:
        if stable_samples < 1:
            raise ValueError(f"stable_samples must be ≥ 1, got {stable_samples}")
        if window < 3 or window % 2 == 0:
            raise ValueError(f"window must be an odd number ≥ 3, got {window}")
        self.shape = shape
        self.stable_samples = stable_samples
        self.window = window
        self.streak = np.zeros(shape, np.uint8)
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))

    def reset(self) -> None:
        self.streak[:] = 0

    def compare(
        self,
        cur: np.ndarray,
        ref: np.ndarray,
        threshold: np.ndarray,
        valid: np.ndarray,
        min_area_px: int,
        cur_color: np.ndarray | None = None,
        ref_color: np.ndarray | None = None,
    ) -> ChangeResult:
        """Change of ``cur`` vs ``ref`` where ``valid``; ``threshold`` per pixel (inf: off)."""
        distance, noise = texture_change(cur, ref, self.window, cur_color, ref_color)
        changed = (distance > threshold) & valid
        changed = cv2.morphologyEx(changed.view(np.uint8), cv2.MORPH_CLOSE, self._kernel) > 0
        changed &= valid
        self.streak = np.where(changed, np.minimum(self.streak + 1, 250), 0).astype(np.uint8)
        stable = self.streak >= self.stable_samples
        regions = find_regions(stable, distance, threshold, min_area_px)
        return ChangeResult(distance, changed, stable, regions, noise)


def find_regions(
    mask: np.ndarray, distance: np.ndarray, threshold: np.ndarray, min_area_px: int
) -> list[Region]:
    """Connected components of ``mask`` with at least ``min_area_px`` pixels, biggest first."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.view(np.uint8), connectivity=8)
    regions = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if area < min_area_px:
            continue
        sub = labels[y : y + h, x : x + w] == i
        d = distance[y : y + h, x : x + w][sub]
        t = threshold[y : y + h, x : x + w][sub]
        strength = float(np.mean(d / np.maximum(t, 1e-3)))
        regions.append(Region((x, y, x + w, y + h), area, strength))
    regions.sort(key=lambda r: -r.area)
    return regions

"""Zones at analysis size: the watch mask, per-pixel thresholds and per-zone settings.

Each zone's settings are the camera's ``detector`` settings with the zone's overrides
(``ZoneOverrides``: min_area, confirm_after, sensitivity, structure_classes) applied.
Where zones overlap, the more sensitive threshold wins; masks are never watched.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np

from detector.change import threshold_for
from detector.settings import DetectorSettings, ZoneOverrides
from geofence import ZoneSet


class ZoneMaps:
    """A ``ZoneSet`` (source pixels) seen from the analysis image (``shape`` = (h, w))."""

    def __init__(
        self,
        zoneset: ZoneSet,
        base: DetectorSettings,
        overrides: Mapping[str, ZoneOverrides] | None,
        shape: tuple[int, int],
    ) -> None:
        overrides = overrides or {}
        unknown = sorted(set(overrides) - {z.id for z in zoneset.zones})
        if unknown:
            raise ValueError(f"zone_overrides: no zone with id {unknown} in the zone set")
        self.zoneset = zoneset
        self.shape = shape
        h, w = shape
        self.scale = w / zoneset.width  # analysis pixels per source pixel
        self.settings = {z.id: base.for_zone(overrides.get(z.id)) for z in zoneset.zones}
        watch = cv2.resize(zoneset.watch_mask(), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        self.watch = watch
        self.threshold = np.full(shape, np.inf, np.float32)
        for z in zoneset.zones:
            poly = zoneset.polygon_float_px(z.id) * self.scale
            inside = np.zeros(shape, np.uint8)
            cv2.fillPoly(inside, [np.round(poly).astype(np.int32)], 1)
            th = threshold_for(self.settings[z.id].sensitivity)
            sel = (inside > 0) & watch
            self.threshold[sel] = np.minimum(self.threshold[sel], th)
        self.min_area_px = {
            zid: max(4, round(s.min_area * w * h)) for zid, s in self.settings.items()
        }
        self.confirm_after = {zid: s.confirm_after for zid, s in self.settings.items()}

    @property
    def smallest_area_px(self) -> int:
        return min(self.min_area_px.values(), default=4)

    def to_source(self, box: tuple[int, int, int, int], dx: float, dy: float) -> list[float]:
        """An analysis box (reference coordinates) in source pixels of the current frame."""
        s = self.scale
        x1, y1, x2, y2 = box
        out = [(x1 + dx) / s, (y1 + dy) / s, (x2 + dx) / s, (y2 + dy) / s]
        wmax, hmax = float(self.zoneset.width), float(self.zoneset.height)
        return [
            float(np.clip(out[0], 0, wmax)),
            float(np.clip(out[1], 0, hmax)),
            float(np.clip(out[2], 0, wmax)),
            float(np.clip(out[3], 0, hmax)),
        ]

    def assign(
        self, boxes: list[tuple[int, int, int, int]], areas: list[int], dx: float, dy: float
    ) -> list[str | None]:
        """Zone per analysis box (None: outside every zone, mostly masked, or too small)."""
        if not boxes:
            return []
        src = np.array([self.to_source(b, dx, dy) for b in boxes], np.float64)
        zones = self.zoneset.assign(src)
        return [
            z if z is not None and area >= self.min_area_px[z] else None
            for z, area in zip(zones, areas, strict=True)
        ]

    def unit(self, zone_id: str) -> str:
        return self.zoneset.zone(zone_id).unit

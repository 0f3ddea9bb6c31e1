"""Zones and masks of one camera, and which zone a detected region belongs to."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
import shapely
from shapely import Polygon
from shapely.geometry.base import BaseGeometry

from geofence.polygons import Coords, Point, frame_problems, normalize, shape_problems, to_pixels


def _check_coords(coords: str, what: str) -> None:
    if coords not in ("fraction", "pixel"):
        raise ValueError(f"{what}: coords must be 'fraction' or 'pixel', got {coords!r}")


@dataclass(frozen=True)
class Zone:
    """An area watched for new structures, owned by one reporting unit.

    ``polygon`` corners are fractions of the frame (default) or pixels (``coords="pixel"``).
    """

    id: str
    unit: str
    polygon: Sequence[Point]
    coords: Coords = "fraction"
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            raise ValueError("Zone: id must be a non-empty string, got ''")
        _check_coords(self.coords, f"zone {self.id!r}")
        object.__setattr__(self, "polygon", tuple(normalize(self.polygon)))
        problems = shape_problems(self.polygon)
        if problems:
            raise ValueError(f"zone {self.id!r}: {problems[0]}")


@dataclass(frozen=True)
class Mask:
    """A region never analysed (a road, a swaying tree, a neighbour's yard)."""

    polygon: Sequence[Point]
    coords: Coords = "fraction"
    id: str | None = None

    def __post_init__(self) -> None:
        what = f"mask {self.id!r}" if self.id else "mask"
        _check_coords(self.coords, what)
        object.__setattr__(self, "polygon", tuple(normalize(self.polygon)))
        problems = shape_problems(self.polygon)
        if problems:
            raise ValueError(f"{what}: {problems[0]}")


FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class _Prepared:
    zone: Zone
    px: FloatArray  # (K, 2) float pixels
    watched: BaseGeometry  # the zone minus every mask, prepared


class ZoneSet:
    """The zones and masks of one camera at one frame size.

    A region belongs to the zone that holds the largest share of its area, once the
    masked part is taken out, provided that share is at least ``min_overlap``.
    Geometries are prepared once, so assigning many boxes costs a few vectorised
    shapely calls per zone.
    """

    def __init__(
        self,
        zones: Iterable[Zone],
        masks: Iterable[Mask],
        width: int,
        height: int,
        min_overlap: float = 0.5,
    ) -> None:
        if not (isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0):
            raise ValueError(
                f"ZoneSet: width and height must be positive ints, got {width}x{height}"
            )
        if not 0.0 < min_overlap <= 1.0:
            raise ValueError(f"ZoneSet: min_overlap must be in (0, 1], got {min_overlap}")
        self.width, self.height, self.min_overlap = width, height, float(min_overlap)
        self.zones: tuple[Zone, ...] = tuple(zones)
        self.masks: tuple[Mask, ...] = tuple(masks)
        seen: set[str] = set()
        for z in self.zones:
            if z.id in seen:
                raise ValueError(f"ZoneSet: duplicate zone id {z.id!r}")
            seen.add(z.id)
        self._mask_px = [
            self._pixels(m.polygon, m.coords, f"mask {m.id or ''}") for m in self.masks
        ]
        mask_union = shapely.union_all([Polygon(p) for p in self._mask_px])
        self._prepared: dict[str, _Prepared] = {}
        for z in self.zones:
            px = self._pixels(z.polygon, z.coords, f"zone {z.id!r}")
            watched = Polygon(px).difference(mask_union) if self._mask_px else Polygon(px)
            shapely.prepare(watched)
            self._prepared[z.id] = _Prepared(z, px, watched)
        self._watch_mask: npt.NDArray[np.uint8] | None = None

    def _pixels(self, polygon: Sequence[Point], coords: Coords, what: str) -> FloatArray:
        bad = frame_problems(polygon, coords, self.width, self.height)
        if bad:
            i, reason = bad[0]
            raise ValueError(f"{what.strip()}: polygon[{i}]: {reason}")
        return to_pixels(polygon, coords, self.width, self.height)

    def zone(self, zone_id: str) -> Zone:
        try:
            return self._prepared[zone_id].zone
        except KeyError:
            known = ", ".join(self._prepared) or "none"
            raise KeyError(f"no zone {zone_id!r} (zones: {known})") from None

    def polygon_px(self, zone_id: str) -> npt.NDArray[np.int32]:
        """The zone's corners as int32 (K, 2) pixels, clipped to the frame (for drawing)."""
        self.zone(zone_id)
        return self._to_int(self._prepared[zone_id].px)

    def polygon_float_px(self, zone_id: str) -> FloatArray:
        """The zone's corners as float (K, 2) pixels, unclipped (for geometry)."""
        self.zone(zone_id)
        return self._prepared[zone_id].px.copy()

    def mask_polygons_px(self) -> list[npt.NDArray[np.int32]]:
        """Each mask's corners as int32 (K, 2) pixels, clipped to the frame, in order."""
        return [self._to_int(p) for p in self._mask_px]

    def mask_float_px(self) -> list[FloatArray]:
        return [p.copy() for p in self._mask_px]

    def _to_int(self, px: FloatArray) -> npt.NDArray[np.int32]:
        hi = np.array([self.width - 1, self.height - 1], dtype=np.float64)
        return np.clip(np.rint(px), 0, hi).astype(np.int32)

    def overlap(self, xyxy: npt.ArrayLike) -> FloatArray:
        """(N, Z) share of each box's area that lies inside each zone and outside every mask.

        A zero-area box counts as its centre point: 1.0 where watched, else 0.0.
        """
        boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        out = np.zeros((len(boxes), len(self.zones)), dtype=np.float64)
        if not len(boxes) or not self.zones:
            return out
        x1 = np.minimum(boxes[:, 0], boxes[:, 2])
        x2 = np.maximum(boxes[:, 0], boxes[:, 2])
        y1 = np.minimum(boxes[:, 1], boxes[:, 3])
        y2 = np.maximum(boxes[:, 1], boxes[:, 3])
        geoms = shapely.box(x1, y1, x2, y2)
        areas = (x2 - x1) * (y2 - y1)
        flat = areas <= 0
        centres = shapely.points((x1 + x2) / 2, (y1 + y2) / 2)
        for k, prep in enumerate(self._prepared.values()):
            out[:, k] = self._shares(prep.watched, geoms, areas, flat, centres)
        return out

    @staticmethod
    def _shares(
        watched: BaseGeometry,
        geoms: npt.NDArray[np.object_],
        areas: FloatArray,
        flat: npt.NDArray[np.bool_],
        centres: npt.NDArray[np.object_],
    ) -> FloatArray:
        share = np.zeros(len(geoms), dtype=np.float64)
        hit = shapely.intersects(watched, geoms) & ~flat  # prepared: cheap rejection
        inside = hit & shapely.contains_properly(watched, geoms)
        share[inside] = 1.0
        partial = hit & ~inside
        if partial.any():
            cut = shapely.area(shapely.intersection(geoms[partial], watched))
            share[partial] = np.clip(cut / areas[partial], 0.0, 1.0)
        if flat.any():
            share[flat] = shapely.covers(watched, centres[flat]).astype(np.float64)
        return share

    def assign(self, xyxy: npt.ArrayLike) -> list[str | None]:
        """Zone id per box (x1, y1, x2, y2 in pixels); None when no zone holds enough of it."""
        shares = self.overlap(xyxy)
        return self._pick(shares)

    def assign_polygon(self, points: npt.ArrayLike) -> str | None:
        """Zone id for a region given as polygon corners in pixels (e.g. a change contour)."""
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if len(pts) < 3:
            raise ValueError(f"assign_polygon: points needs at least 3 corners, got {len(pts)}")
        region = Polygon(pts)
        if not region.is_valid:
            region = region.buffer(0)
        if region.area <= 0:
            return None
        shares = np.array(
            [[region.intersection(p.watched).area / region.area for p in self._prepared.values()]]
        )
        return self._pick(shares)[0]

    def _pick(self, shares: FloatArray) -> list[str | None]:
        if not self.zones:
            return [None] * len(shares)
        best = np.argmax(shares, axis=1)  # ties go to the zone listed first
        ids = [z.id for z in self.zones]
        ok = shares[np.arange(len(shares)), best] >= self.min_overlap - 1e-12
        return [ids[b] if good else None for b, good in zip(best, ok, strict=True)]

    def watch_mask(self) -> npt.NDArray[np.uint8]:
        """uint8 (H, W): 255 inside some zone and outside every mask, else 0 (read-only)."""
        if self._watch_mask is None:
            img = np.zeros((self.height, self.width), dtype=np.uint8)
            for prep in self._prepared.values():
                cv2.fillPoly(img, [self._fill_px(prep.px)], 255, cv2.LINE_8, 4)
            for px in self._mask_px:
                cv2.fillPoly(img, [self._fill_px(px)], 0, cv2.LINE_8, 4)
            img.flags.writeable = False
            self._watch_mask = img
        return self._watch_mask

    @staticmethod
    def _fill_px(px: FloatArray) -> npt.NDArray[np.int32]:
        # fillPoly fills pixel centres on or inside the outline; 1/16-pixel fixed point
        return np.rint((px - 0.5) * 16).astype(np.int32).reshape(-1, 1, 2)

    def __repr__(self) -> str:
        return (
            f"ZoneSet({len(self.zones)} zones, {len(self.masks)} masks, "
            f"{self.width}x{self.height}, min_overlap={self.min_overlap})"
        )

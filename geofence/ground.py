"""Pixel ↔ ground mapping of one camera from four or more control points.

The ground seen by the camera is taken as a plane; a homography maps image pixels
onto it. Control points are given in local metres (x east, y north) or in
longitude/latitude, which are turned into metres on a plane tangent to the
WGS84 ellipsoid at their centroid (well under 0.1 % error over a few km).

A detection's *footprint* is its box projected onto that plane: exact for flat
things (a slab, a pile of materials, a roof seen from above), an upper bound for
tall ones seen from the side.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from shapely import Polygon

FloatArray = npt.NDArray[np.float64]
GroundKind = Literal["lonlat", "metres"]

_WGS84_A = 6378137.0
_WGS84_E2 = 6.69437999014e-3
_HORIZON_EPS = 1e-9


class LocalPlane:
    """Longitude/latitude ↔ metres east/north of an origin, on the tangent plane there."""

    def __init__(self, lon0: float, lat0: float) -> None:
        if not (-180 <= lon0 <= 180 and -90 < lat0 < 90):
            raise ValueError(
                f"LocalPlane: origin must be lon -180..180, lat -90..90, got {lon0}, {lat0}"
            )
        self.lon0, self.lat0 = float(lon0), float(lat0)
        phi = math.radians(lat0)
        s2 = 1 - _WGS84_E2 * math.sin(phi) ** 2
        meridional = _WGS84_A * (1 - _WGS84_E2) / s2**1.5  # radius of curvature N-S
        normal = _WGS84_A / math.sqrt(s2)  # radius of curvature E-W
        self._mx = math.radians(1) * normal * math.cos(phi)  # metres per degree of longitude
        self._my = math.radians(1) * meridional  # metres per degree of latitude

    def to_metres(self, lonlat: npt.ArrayLike) -> FloatArray:
        ll = np.asarray(lonlat, dtype=np.float64).reshape(-1, 2)
        return np.stack([(ll[:, 0] - self.lon0) * self._mx, (ll[:, 1] - self.lat0) * self._my], 1)

    def to_lonlat(self, metres: npt.ArrayLike) -> FloatArray:
        m = np.asarray(metres, dtype=np.float64).reshape(-1, 2)
        return np.stack([m[:, 0] / self._mx + self.lon0, m[:, 1] / self._my + self.lat0], 1)


def fit_homography(src: npt.ArrayLike, dst: npt.ArrayLike) -> FloatArray:
    """Normalised DLT (least squares for more than 4 points); raises if degenerate."""
    a = np.asarray(src, dtype=np.float64).reshape(-1, 2)
    b = np.asarray(dst, dtype=np.float64).reshape(-1, 2)
    if len(a) < 4 or len(a) != len(b):
        raise ValueError(f"fit_homography: needs >= 4 point pairs, got {len(a)} and {len(b)}")
    ta, tb = _normaliser(a), _normaliser(b)
    pa, pb = _apply(ta, a), _apply(tb, b)
    rows = []
    for (x, y), (u, v) in zip(pa, pb, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    _, s, vt = np.linalg.svd(np.asarray(rows))
    hn = vt[-1].reshape(3, 3)
    hs = np.linalg.svd(hn, compute_uv=False)
    if s[7] < 1e-6 * s[0] or hs[2] < 1e-6 * hs[0]:
        raise ValueError("control points are degenerate: too many of them lie on one line")
    h = np.linalg.inv(tb) @ hn @ ta
    return h / h[2, 2] if abs(h[2, 2]) > 1e-12 else h


def _normaliser(p: FloatArray) -> FloatArray:
    c = p.mean(axis=0)
    d = np.sqrt(((p - c) ** 2).sum(axis=1)).mean()
    if d <= 0:
        raise ValueError("control points are degenerate: they coincide")
    s = math.sqrt(2) / d
    return np.array([[s, 0, -s * c[0]], [0, s, -s * c[1]], [0, 0, 1]])


def _apply(h: FloatArray, pts: FloatArray) -> FloatArray:
    """Projected points; rows that land at or beyond the horizon become NaN."""
    homog = np.hstack([pts, np.ones((len(pts), 1))]) @ h.T
    w = homog[:, 2:3]
    out = homog[:, :2] / np.where(np.abs(w) > _HORIZON_EPS, w, np.nan)
    return np.asarray(out, dtype=np.float64)


def collinear_triple(p: FloatArray) -> tuple[int, int, int] | None:
    """With exactly four points, the first three that lie on one line (no homography then)."""
    if len(p) != 4:
        return None
    span = max(float(np.ptp(p, axis=0).max()), 1e-12)
    for tri in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)):
        a, b, c = p[list(tri)]
        twice = abs((b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0]))
        if twice <= 1e-3 * span**2:
            return tri
    return None


def find_outlier(
    pixels: FloatArray, ground_m: FloatArray, tolerance_m: float
) -> tuple[int, float] | None:
    """The one control point that the others, fitted alone, disagree with.

    Needs six or more points (five minus one is four, which any homography fits
    exactly). Returns ``(index, metres off)`` when dropping that single point leaves
    the rest within ``tolerance_m``; None when no single point explains the misfit.
    """
    if len(pixels) < 6:
        return None
    best: tuple[float, int, float] | None = None
    for k in range(len(pixels)):
        keep = np.arange(len(pixels)) != k
        try:
            h = fit_homography(pixels[keep], ground_m[keep])
        except ValueError:
            continue
        rest = np.linalg.norm(_apply(h, pixels[keep]) - ground_m[keep], axis=1).max()
        off = float(np.linalg.norm(_apply(h, pixels[k : k + 1])[0] - ground_m[k]))
        if best is None or rest < best[0]:
            best = (float(rest), k, off)
    if best is None or not best[0] <= tolerance_m:
        return None
    return best[1], best[2]


def _on_one_line(p: FloatArray) -> bool:
    """True when the points span no area (all on one line, or all the same)."""
    if len(p) < 4:
        return True
    span = np.ptp(p, axis=0).max()
    hull = Polygon(p).convex_hull
    return bool(hull.area <= 1e-6 * span**2)


class GroundMap:
    """Homography from image pixels to metres on the ground plane (and lon/lat).

    ``pixels``: (K, 2) control points in the image; ``ground``: (K, 2) the same points
    in metres (x east, y north) or, with ``kind="lonlat"``, as longitude, latitude.
    ``origin_lonlat`` places local metres on the globe (lon/lat of metres (0, 0));
    without it :meth:`center_lonlat` returns None for a ``metres`` map.
    """

    def __init__(
        self,
        pixels: npt.ArrayLike,
        ground: npt.ArrayLike,
        *,
        kind: GroundKind = "metres",
        origin_lonlat: Sequence[float] | None = None,
    ) -> None:
        px = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
        gd = np.asarray(ground, dtype=np.float64).reshape(-1, 2)
        if len(px) < 4:
            raise ValueError(f"GroundMap: pixels needs at least 4 control points, got {len(px)}")
        if len(gd) != len(px):
            raise ValueError(f"GroundMap: ground has {len(gd)} points, pixels has {len(px)}")
        if kind not in ("lonlat", "metres"):
            raise ValueError(f"GroundMap: kind must be 'lonlat' or 'metres', got {kind!r}")
        if not (np.isfinite(px).all() and np.isfinite(gd).all()):
            raise ValueError("GroundMap: control points must be finite numbers")
        self.kind: GroundKind = kind
        self.plane: LocalPlane | None = None
        if kind == "lonlat":
            lon0, lat0 = gd.mean(axis=0)
            self.plane = LocalPlane(float(lon0), float(lat0))
            gd = self.plane.to_metres(gd)
        elif origin_lonlat is not None:
            self.plane = LocalPlane(float(origin_lonlat[0]), float(origin_lonlat[1]))
        for name, pts in (("pixels", px), ("ground", gd)):
            if _on_one_line(pts):
                raise ValueError(f"GroundMap: {name} control points all lie on one line")
            tri = collinear_triple(pts)
            if tri is not None:
                raise ValueError(
                    f"GroundMap: control points {tri[0]}, {tri[1]} and {tri[2]} lie on one line "
                    f"({'in the image' if name == 'pixels' else 'on the ground'}): "
                    "move one, or add a fifth point"
                )
        self.pixels, self.ground_m = px, gd
        self.h = fit_homography(px, gd)
        self.h_inv: FloatArray = np.asarray(np.linalg.inv(self.h), dtype=np.float64)
        w = np.hstack([px, np.ones((len(px), 1))]) @ self.h[2]
        if not ((w > 0).all() or (w < 0).all()):
            raise ValueError("GroundMap: control points straddle the horizon; check their order")
        self._sign = 1.0 if w[0] > 0 else -1.0

    @property
    def residuals_m(self) -> FloatArray:
        """Distance in metres between each control point and where the fit puts it."""
        return np.asarray(np.linalg.norm(self.to_ground(self.pixels) - self.ground_m, axis=1))

    @property
    def rms_error_m(self) -> float:
        return float(np.sqrt(np.mean(self.residuals_m**2)))

    def to_ground(self, points_px: npt.ArrayLike) -> FloatArray:
        """(K, 2) metres for (K, 2) pixels; NaN rows for pixels at or above the horizon."""
        pts = np.asarray(points_px, dtype=np.float64).reshape(-1, 2)
        w = (np.hstack([pts, np.ones((len(pts), 1))]) @ self.h[2]) * self._sign
        out = _apply(self.h, pts)
        out[w <= _HORIZON_EPS] = np.nan
        return out

    def to_pixels(self, points_m: npt.ArrayLike) -> FloatArray:
        """(K, 2) pixels for (K, 2) ground metres."""
        return _apply(self.h_inv, np.asarray(points_m, dtype=np.float64).reshape(-1, 2))

    def to_lonlat(self, points_px: npt.ArrayLike) -> FloatArray | None:
        """(K, 2) longitude, latitude for pixels; None when the map has no lon/lat reference."""
        if self.plane is None:
            return None
        return self.plane.to_lonlat(self.to_ground(points_px))

    def area_m2(self, polygon_px: npt.ArrayLike) -> float | None:
        """Ground area in m² of an image polygon; None if any corner is at or above the horizon."""
        ground = self.to_ground(polygon_px)
        if len(ground) < 3 or not np.isfinite(ground).all():
            return None
        return float(Polygon(ground).area)

    def footprint(self, xyxy: Sequence[float]) -> FloatArray | None:
        """(4, 2) metres: the box's corners on the ground; None above the horizon."""
        x1, y1, x2, y2 = (float(v) for v in xyxy)
        ground = self.to_ground([(x1, y1), (x2, y1), (x2, y2), (x1, y2)])
        return ground if np.isfinite(ground).all() else None

    def center_m(self, xyxy: Sequence[float]) -> tuple[float, float] | None:
        """Centre of the footprint (its centroid) in local metres."""
        fp = self.footprint(xyxy)
        if fp is None:
            return None
        c = Polygon(fp).centroid
        return float(c.x), float(c.y)

    def center_lonlat(self, xyxy: Sequence[float]) -> tuple[float, float] | None:
        """Longitude, latitude of the footprint's centre; None without a lon/lat reference."""
        c = self.center_m(xyxy)
        if c is None or self.plane is None:
            return None
        lon, lat = self.plane.to_lonlat([c])[0]
        return float(lon), float(lat)

    def scaled(self, sx: float, sy: float) -> GroundMap:
        """The same mapping for a frame scaled by ``sx``, ``sy`` (e.g. a camera's substream)."""
        out = object.__new__(GroundMap)
        out.__dict__.update(self.__dict__)
        out.pixels = self.pixels * np.array([sx, sy])
        scale_inv = np.diag([1.0 / sx, 1.0 / sy, 1.0])
        out.h = self.h @ scale_inv
        out.h_inv = np.asarray(np.linalg.inv(out.h), dtype=np.float64)
        return out

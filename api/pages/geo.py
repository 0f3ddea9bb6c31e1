"""The pages' small maps: Web Mercator at a whole zoom level (the XYZ tile scheme), so
that the zone outline, the cases and, when the site names a tile server, the 256-px
tiles line up in one SVG. ``api/static/map.js`` does the same sums in the browser."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

TILE = 256
WIDTH, HEIGHT = 400, 240  # the SVG's viewBox
MARGIN = 24  # keep what must be seen this far inside the edge
MIN_ZOOM, MAX_ZOOM = 12, 17
MAX_LAT = 85.05112878
EQUATOR_M = 40_075_016.686  # metres around the equator (WGS84, spherical Mercator)
SCALE_STEPS = (5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


def world_px(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Pixel of the whole world's map at ``zoom`` (256·2^zoom square, north-west origin)."""
    n = TILE * 2.0**zoom
    s = math.sin(math.radians(max(-MAX_LAT, min(MAX_LAT, lat))))
    return (lon + 180.0) / 360.0 * n, (0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)) * n


@dataclass(frozen=True)
class MapView:
    """``WIDTH`` × ``HEIGHT`` SVG units around (lon, lat) at ``zoom``; one unit = one pixel
    of the tile pyramid."""

    lon: float
    lat: float
    zoom: int

    @property
    def origin(self) -> tuple[float, float]:
        cx, cy = world_px(self.lon, self.lat, self.zoom)
        return cx - WIDTH / 2, cy - HEIGHT / 2

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = world_px(lon, lat, self.zoom)
        ox, oy = self.origin
        return round(x - ox, 2), round(y - oy, 2)

    @property
    def metres_per_unit(self) -> float:
        return EQUATOR_M * math.cos(math.radians(self.lat)) / (TILE * 2.0**self.zoom)

    def scale_bar(self) -> tuple[int, float]:
        """A round length in metres and its length in SVG units (at most a quarter width)."""
        fits = [m for m in SCALE_STEPS if m / self.metres_per_unit <= WIDTH / 4]
        metres = fits[-1] if fits else SCALE_STEPS[0]
        return metres, round(metres / self.metres_per_unit, 2)

    def tiles(self, template: str) -> list[dict[str, Any]]:
        """The tiles that cover the view: URL and top-left corner in SVG units."""
        ox, oy = self.origin
        n = 2**self.zoom
        out = []
        for ty in range(int(oy // TILE), int((oy + HEIGHT) // TILE) + 1):
            if not 0 <= ty < n:
                continue
            for tx in range(int(ox // TILE), int((ox + WIDTH) // TILE) + 1):
                url = (
                    template.replace("{z}", str(self.zoom))
                    .replace("{x}", str(tx % n))
                    .replace("{y}", str(ty))
                )
                out.append(
                    {"href": url, "x": round(tx * TILE - ox, 2), "y": round(ty * TILE - oy, 2)}
                )
        return out


def fit(
    center: tuple[float, float], points: Iterable[Sequence[float]], max_zoom: int = MAX_ZOOM
) -> MapView:
    """The closest whole zoom (``MIN_ZOOM``..``max_zoom``) that shows every point around
    ``center`` at least ``MARGIN`` inside the edge."""
    pts = list(points)
    top = max(MIN_ZOOM, min(MAX_ZOOM, max_zoom))
    for zoom in range(top, MIN_ZOOM - 1, -1):
        view = MapView(center[0], center[1], zoom)
        inside = all(
            MARGIN <= x <= WIDTH - MARGIN and MARGIN <= y <= HEIGHT - MARGIN
            for x, y in (view.xy(p[0], p[1]) for p in pts)
        )
        if inside:
            return view
    return MapView(center[0], center[1], MIN_ZOOM)


def ring_centre(ring: Sequence[Sequence[float]]) -> tuple[float, float]:
    """The middle of a ring's bounding box (enough to centre a small map on a zone)."""
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2

"""Ground area (m²) and lon/lat of a detection's box, from its camera's ground mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shapely.geometry import Polygon

from geofence.ground import GroundMap

# camera id → (its mapping in the pixels of ``resolution``, resolution or None)
GroundMaps = Mapping[str, tuple[GroundMap, tuple[int, int] | None]]


def locate(maps: GroundMaps, record: dict[str, Any]) -> dict[str, float]:
    """``area_m2``, ``lon``, ``lat`` for the record's box when its camera has a mapping and the
    record does not carry them already; {} otherwise (or above the horizon)."""
    entry = maps.get(str(record.get("camera")))
    box = record.get("bbox")
    if entry is None or not isinstance(box, list) or len(box) != 4:
        return {}
    gm, resolution = entry
    size = record.get("frame_size")
    if (
        resolution is not None
        and isinstance(size, list)
        and len(size) == 2
        and size != list(resolution)
    ):
        try:
            gm = gm.scaled(float(size[0]) / resolution[0], float(size[1]) / resolution[1])
        except (TypeError, ValueError, ZeroDivisionError):
            return {}
    out: dict[str, float] = {}
    try:
        footprint = gm.footprint([float(v) for v in box])
        if footprint is not None and "area_m2" not in record:
            out["area_m2"] = round(float(Polygon(footprint).area), 2)
        center = gm.center_lonlat([float(v) for v in box])
    except (TypeError, ValueError):
        return {}
    if center is not None and "lon" not in record and "lat" not in record:
        out["lon"], out["lat"] = round(center[0], 7), round(center[1], 7)
    return out

"""Zones (and masks) on the map: GeoJSON (RFC 7946, longitude/latitude, WGS84)."""

from __future__ import annotations

from typing import Any

import numpy as np
from shapely import Polygon
from shapely.geometry.polygon import orient

from geofence.ground import GroundMap
from geofence.zones import ZoneSet


class NotOnGroundError(ValueError):
    """A zone that cannot be placed on the map (no lon/lat reference, or above the horizon)."""


def _ring(px: np.ndarray, ground: GroundMap, what: str) -> list[list[float]]:
    lonlat = ground.to_lonlat(px)
    if lonlat is None:
        raise NotOnGroundError(
            f"{what}: the ground mapping has no longitude/latitude: give control points as "
            "lonlat, or origin: [lon, lat] for local metres"
        )
    if not np.isfinite(lonlat).all():
        raise NotOnGroundError(f"{what}: part of it lies at or above the horizon")
    poly = orient(Polygon(lonlat), sign=1.0)  # counter-clockwise exterior (right-hand rule)
    return [[round(x, 8), round(y, 8)] for x, y in poly.exterior.coords]


def zones_geojson(
    zoneset: ZoneSet,
    ground: GroundMap,
    *,
    camera: str | None = None,
    unit_paths: dict[str, str] | None = None,
    masks: bool = False,
) -> dict[str, Any]:
    """A FeatureCollection with one Polygon per zone (and per mask when ``masks``).

    Properties: ``kind`` (zone/mask), ``id``, ``unit`` (``unit_paths`` may map a zone id
    to its canonical unit path), ``name``, ``camera``, ``area_m2``. Raises
    :class:`NotOnGroundError` naming the zone that cannot be placed.
    """
    features: list[dict[str, Any]] = []
    for zone in zoneset.zones:
        px = zoneset.polygon_float_px(zone.id)
        area = ground.area_m2(px)
        props: dict[str, Any] = {
            "kind": "zone",
            "id": zone.id,
            "unit": (unit_paths or {}).get(zone.id, zone.unit),
            "name": zone.name,
            "camera": camera,
            "area_m2": None if area is None else round(area, 1),
        }
        ring = _ring(px, ground, f"zone {zone.id!r}")
        features.append(_feature(ring, props))
    if masks:
        for i, (mask, px) in enumerate(zip(zoneset.masks, zoneset.mask_float_px(), strict=True)):
            ring = _ring(px, ground, f"mask {mask.id or i!r}")
            props = {"kind": "mask", "id": mask.id, "camera": camera}
            features.append(_feature(ring, props))
    return {"type": "FeatureCollection", "features": features}


def _feature(ring: list[list[float]], props: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": props,
    }


def merge(collections: list[dict[str, Any]]) -> dict[str, Any]:
    """One FeatureCollection holding the features of several (e.g. one per camera)."""
    return {
        "type": "FeatureCollection",
        "features": [f for c in collections for f in c["features"]],
    }

"""Zones exported as GeoJSON land where they are on the ground."""

from __future__ import annotations

import json

import numpy as np
import pytest
from shapely import Polygon

from geofence import GroundMap, Mask, Zone, ZoneSet
from geofence.geojson import NotOnGroundError, merge, zones_geojson
from tests.geofence.synthetic import CONTROL_M, H, W, project, to_lonlat


def lonlat_map() -> GroundMap:
    return GroundMap(np.rint(project(CONTROL_M)), to_lonlat(CONTROL_M), kind="lonlat")


def shed_zoneset() -> tuple[ZoneSet, np.ndarray]:
    shed_m = np.array([[-3.0, 10.0], [9.0, 10.0], [9.0, 18.0], [-3.0, 18.0]])
    px = project(shed_m)
    road_px = project(np.array([[-8.0, 2.0], [8.0, 2.0], [8.0, 5.0], [-8.0, 5.0]]))
    zs = ZoneSet(
        [Zone("shed", "南屿镇/旗山村", [tuple(p) for p in px], coords="pixel", name="村东")],
        [Mask([tuple(p) for p in road_px], coords="pixel", id="road")],
        W,
        H,
    )
    return zs, shed_m


def test_zone_polygon_in_lonlat() -> None:
    zs, shed_m = shed_zoneset()
    doc = zones_geojson(zs, lonlat_map(), camera="cam1", masks=True)
    assert doc["type"] == "FeatureCollection"
    zone, mask = doc["features"]
    assert zone["type"] == "Feature" and zone["geometry"]["type"] == "Polygon"
    assert zone["properties"] == {
        "kind": "zone",
        "id": "shed",
        "unit": "南屿镇/旗山村",
        "name": "村东",
        "camera": "cam1",
        "area_m2": pytest.approx(96.0, rel=0.01),
    }
    ring = np.array(zone["geometry"]["coordinates"][0])
    assert ring.shape == (5, 2) and (ring[0] == ring[-1]).all()  # closed
    # right-hand rule: the exterior ring runs counter-clockwise
    x, y = ring[:, 0], ring[:, 1]
    assert float(np.sum(x[:-1] * y[1:] - x[1:] * y[:-1])) > 0
    # every corner within a few centimetres of the true lon/lat
    truth = to_lonlat(shed_m)
    for corner in ring[:-1]:
        assert np.abs(truth - corner).sum(axis=1).min() < 5e-7
    assert Polygon(ring).contains(Polygon(to_lonlat(shed_m)).centroid)
    assert mask["properties"]["kind"] == "mask" and mask["properties"]["id"] == "road"
    text = json.dumps(doc, ensure_ascii=False)
    assert "南屿镇/旗山村" in text
    assert json.loads(text) == doc


def test_metres_map_needs_an_origin() -> None:
    zs, _ = shed_zoneset()
    metres = GroundMap(np.rint(project(CONTROL_M)), CONTROL_M, kind="metres")
    with pytest.raises(NotOnGroundError, match=r"zone 'shed'.*no longitude/latitude"):
        zones_geojson(zs, metres)
    placed = GroundMap(
        np.rint(project(CONTROL_M)), CONTROL_M, kind="metres", origin_lonlat=(119.2, 26.03)
    )
    ring = zones_geojson(zs, placed)["features"][0]["geometry"]["coordinates"][0]
    assert ring[0] == pytest.approx(list(to_lonlat(np.array([[-3.0, 10.0]]))[0]), abs=5e-7)


def test_zone_above_the_horizon_is_refused() -> None:
    sky = Zone("sky", "u", [(0.0, 0.0), (1.0, 0.0), (1.0, 0.02)])
    zs = ZoneSet([sky], [], W, H)
    with pytest.raises(NotOnGroundError, match=r"zone 'sky'.*horizon"):
        zones_geojson(zs, lonlat_map())


def test_merge_collections() -> None:
    zs, _ = shed_zoneset()
    a = zones_geojson(zs, lonlat_map(), camera="a")
    b = zones_geojson(zs, lonlat_map(), camera="b")
    both = merge([a, b])
    assert [f["properties"]["camera"] for f in both["features"]] == ["a", "b"]

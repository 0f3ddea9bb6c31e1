"""Pixel → ground mapping on a synthetic plane seen by a pinhole camera of known pose.

The camera stands 12 m above flat ground at (0, -25) m, looks north and 20° down
(the horizon is in view), 1920×1080 with a 1400 px focal length. Ground shapes of
known geometry are projected into the image; the mapping fitted from a few control
points must give their areas back within 5 %.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely import Polygon

from geofence.ground import GroundMap, LocalPlane
from tests.geofence.synthetic import (
    CONTROL_M,
    PITCH,
    F,
    H,
    in_frame,
    metres_per_degree,
    project,
    to_lonlat,
)


def metres_map(
    control_m: np.ndarray = CONTROL_M, noise_px: float = 0.0, seed: int = 0
) -> GroundMap:
    px = project(control_m)
    assert in_frame(px)
    # picked by hand: whole pixels, off by noise_px (standard deviation)
    px = np.rint(px + np.random.default_rng(seed).normal(0, noise_px, px.shape))
    return GroundMap(px, control_m, kind="metres")


SHAPES = {
    "shed 12x8 m": [(-3.0, 10.0), (9.0, 10.0), (9.0, 18.0), (-3.0, 18.0)],
    "far yard 15x6 m": [(-7.0, 40.0), (8.0, 40.0), (8.0, 46.0), (-7.0, 46.0)],
    "near triangle": [(-5.0, 2.0), (4.0, 2.5), (0.0, 7.0)],
}
EXTRA_M = np.array([[0.0, 15.0], [5.0, 25.0], [-4.0, 40.0]])


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_area_within_5_percent(name: str) -> None:
    ground = np.array(SHAPES[name])
    truth = Polygon(ground).area
    px = project(ground)
    assert in_frame(px)
    area = metres_map().area_m2(px)
    assert area is not None
    assert area == pytest.approx(truth, rel=0.005)  # exact up to whole-pixel rounding
    # seven control points clicked with 1.5 px error: typical error stays within 5 %
    control = np.vstack([CONTROL_M, EXTRA_M])
    errors = []
    for seed in range(10):
        noisy = metres_map(control, 1.5, seed).area_m2(px)
        assert noisy is not None
        errors.append(abs(noisy / truth - 1))
    assert float(np.median(errors)) < 0.05, errors


def test_footprint_centre_and_round_trip() -> None:
    gm = metres_map()
    assert gm.rms_error_m < 0.05
    ground = np.array([[2.0, 12.0], [6.0, 12.0], [6.0, 15.0], [2.0, 15.0]])
    px = project(ground)
    box = [px[:, 0].min(), px[:, 1].min(), px[:, 0].max(), px[:, 1].max()]
    fp = gm.footprint(box)
    assert fp is not None and fp.shape == (4, 2)
    # the box around a projected rectangle covers it: the footprint holds the rectangle
    assert Polygon(fp).buffer(0.05).contains(Polygon(ground))
    centre = gm.center_m(box)
    assert centre is not None
    assert centre == pytest.approx((4.0, 13.5), abs=0.3)
    assert gm.to_pixels(gm.to_ground(px)) == pytest.approx(px, abs=1e-6)
    assert gm.center_lonlat(box) is None  # metres without an origin: not on the map


def test_sky_is_not_ground() -> None:
    gm = metres_map()
    horizon_y = H / 2 - F * math.tan(PITCH)  # image row of the horizon
    sky = [[100, horizon_y - 25], [300, horizon_y - 25], [300, horizon_y - 10]]
    assert np.isnan(gm.to_ground(sky)).all()
    assert gm.area_m2(sky) is None
    assert gm.footprint([100, horizon_y - 20, 300, horizon_y + 300]) is None


def test_lonlat_control_points() -> None:
    gm = GroundMap(np.rint(project(CONTROL_M)), to_lonlat(CONTROL_M), kind="lonlat")
    shed = np.array(SHAPES["shed 12x8 m"])
    area = gm.area_m2(project(shed))
    assert area == pytest.approx(96.0, rel=0.05)
    px = project(np.array([[3.0, 14.0]]))[0]
    lonlat = gm.center_lonlat([px[0] - 1, px[1] - 1, px[0] + 1, px[1] + 1])
    assert lonlat is not None
    assert lonlat == pytest.approx(tuple(to_lonlat(np.array([[3.0, 14.0]]))[0]), abs=2e-6)


def test_local_plane_matches_reference_degree_lengths() -> None:
    for lat in (0.0, 26.03, 45.0, 60.0):
        plane = LocalPlane(119.2, lat)
        lon_m, lat_m = metres_per_degree(lat)
        one = plane.to_metres([[120.2, lat + 1e-3]])[0]
        assert one[0] == pytest.approx(lon_m, rel=1e-4)
        assert one[1] == pytest.approx(lat_m * 1e-3, rel=1e-4)
        assert plane.to_lonlat(one)[0] == pytest.approx([120.2, lat + 1e-3])


def test_constructor_errors() -> None:
    px = project(CONTROL_M)
    with pytest.raises(ValueError, match="at least 4 control points, got 3"):
        GroundMap(px[:3], CONTROL_M[:3])
    with pytest.raises(ValueError, match="ground has 3 points, pixels has 4"):
        GroundMap(px, CONTROL_M[:3])
    with pytest.raises(ValueError, match="kind must be 'lonlat' or 'metres'"):
        GroundMap(px, CONTROL_M, kind="feet")  # type: ignore[arg-type]
    line = np.array([[0, 0], [1, 1], [2, 2], [3, 3]], dtype=float)
    with pytest.raises(ValueError, match="pixels control points all lie on one line"):
        GroundMap(line, CONTROL_M)
    three = np.array([[0, 0], [100, 0], [200, 0], [50, 80]], dtype=float)
    with pytest.raises(ValueError, match="points 0, 1 and 2 lie on one line"):
        GroundMap(three, CONTROL_M)

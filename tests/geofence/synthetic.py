"""A pinhole camera of known pose over flat ground, for the ground-mapping tests.

12 m above the ground at (0, -25) m (x east, y north), looking north and 20° down
(the horizon is in view), 1920×1080 with a 1400 px focal length.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

W, H, F = 1920, 1080, 1400.0
CAM = np.array([0.0, -25.0, 12.0])
PITCH = math.radians(20)


def project(points_m: npt.ArrayLike) -> np.ndarray:
    """Ground points (x east, y north, z = 0) to pixels of the synthetic camera."""
    pts = np.asarray(points_m, dtype=np.float64).reshape(-1, 2)
    world = np.hstack([pts, np.zeros((len(pts), 1))]) - CAM
    fwd = np.array([0.0, math.cos(PITCH), -math.sin(PITCH)])
    right = np.array([1.0, 0.0, 0.0])
    down = np.cross(fwd, right)
    cam = world @ np.stack([right, down, fwd]).T
    assert (cam[:, 2] > 0).all(), "test point behind the camera"
    return np.stack([F * cam[:, 0] / cam[:, 2] + W / 2, F * cam[:, 1] / cam[:, 2] + H / 2], 1)


def in_frame(px: np.ndarray) -> bool:
    return bool(((px >= 0) & (px <= [W, H])).all())


CONTROL_M = np.array([[-8.0, 0.0], [8.0, 0.0], [10.0, 50.0], [-10.0, 50.0]])


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Independent reference: the standard series for WGS84 degree lengths."""
    p = math.radians(lat)
    lat_m = 111132.92 - 559.82 * math.cos(2 * p) + 1.175 * math.cos(4 * p)
    lon_m = 111412.84 * math.cos(p) - 93.5 * math.cos(3 * p) + 0.118 * math.cos(5 * p)
    return lon_m, lat_m


def to_lonlat(points_m: np.ndarray, lon0: float = 119.2, lat0: float = 26.03) -> np.ndarray:
    lon_m, lat_m = metres_per_degree(lat0)
    return np.stack([lon0 + points_m[:, 0] / lon_m, lat0 + points_m[:, 1] / lat_m], 1)

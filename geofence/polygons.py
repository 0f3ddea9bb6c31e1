"""Polygon checks shared by the config loader and the geofence objects.

Every check returns plain reasons (strings) instead of raising, so the config
loader can attach file, line and zone to each one, and the dataclasses can raise
them as ``ValueError``. Indices in reasons are 0-based, like the config paths
(``polygon[2]``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from shapely import LineString, Polygon

Coords = Literal["fraction", "pixel"]
Point = tuple[float, float]

_ZERO_AREA = 1e-9  # relative to the bounding box area: below this the polygon is a line


def fmt_point(p: Sequence[float]) -> str:
    """``(0.25, 0.5)`` / ``(640, 360)``: short, exact enough to find the point in YAML."""
    return "(" + ", ".join(f"{float(v):.6g}" for v in p[:2]) + ")"


def normalize(points: Sequence[Sequence[float]]) -> list[Point]:
    """Points as float pairs; a closing point equal to the first is dropped (GeoJSON habit)."""
    pts = [(float(p[0]), float(p[1])) for p in points]
    if len(pts) > 3 and pts[0] == pts[-1]:
        pts = pts[:-1]
    return pts


def shape_problems(points: Sequence[Sequence[float]]) -> list[str]:
    """Why ``points`` is not a usable polygon: too few points, not finite, repeated
    points, zero area, edges that cross. Empty when it is fine. Units do not matter."""
    pts = normalize(points)
    if len(pts) < 3:
        return [f"a polygon needs at least 3 points, got {len(pts)}"]
    bad = [i for i, p in enumerate(pts) if not (math.isfinite(p[0]) and math.isfinite(p[1]))]
    if bad:
        return [f"polygon[{bad[0]}] is not a finite number pair: {fmt_point(pts[bad[0]])}"]
    problems = [
        f"polygon[{i}] repeats the point before it {fmt_point(pts[i])}"
        for i in range(1, len(pts))
        if pts[i] == pts[i - 1]
    ]
    if problems:
        return problems
    if zero_area(pts):
        return ["polygon has zero area: its points lie on one line"]
    crossing = first_crossing(pts)
    if crossing is not None:
        (a, b), (c, d), where = crossing
        return [
            f"polygon crosses itself: edge polygon[{a}]-[{b}] meets edge "
            f"polygon[{c}]-[{d}] at {fmt_point(where)}; list the corners in order around the area"
        ]
    return []


def zero_area(pts: Sequence[Point]) -> bool:
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    box = (max(xs) - min(xs)) * (max(ys) - min(ys))
    if box <= 0:
        return True
    # shoelace: the area of the ring as drawn (a figure-eight nets out, handled as a crossing)
    n = len(pts)
    twice = sum(pts[i][0] * pts[(i + 1) % n][1] - pts[(i + 1) % n][0] * pts[i][1] for i in range(n))
    return abs(twice) / 2 <= _ZERO_AREA * box and Polygon(pts).buffer(0).area <= _ZERO_AREA * box


def first_crossing(
    pts: Sequence[Point],
) -> tuple[tuple[int, int], tuple[int, int], Point] | None:
    """The first pair of edges that touch where they should not, and where they meet.

    Neighbouring edges may share their common corner only; any other contact
    (a crossing, a touch, an edge folding back on the one before it) counts.
    """
    n = len(pts)
    edges = [LineString([pts[i], pts[(i + 1) % n]]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            inter = edges[i].intersection(edges[j])
            if inter.is_empty:
                continue
            adjacent = j == i + 1 or (i == 0 and j == n - 1)
            if adjacent and inter.geom_type == "Point":
                continue  # the shared corner
            where = inter.representative_point()
            return (i, (i + 1) % n), (j, (j + 1) % n), (where.x, where.y)
    return None


def frame_problems(
    points: Sequence[Sequence[float]], coords: Coords, width: int | None, height: int | None
) -> list[tuple[int, str]]:
    """``(index, reason)`` for each point outside the frame.

    Fractions must lie in 0..1 (edges included); pixels in 0..width × 0..height, which
    needs the frame size (``None`` skips the pixel check — the caller reports that).
    """
    out: list[tuple[int, str]] = []
    for i, p in enumerate(points):
        x, y = float(p[0]), float(p[1])
        if coords == "fraction":
            if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                hint = " (pixel coordinates? add coords: pixel)" if max(x, y) > 1.5 else ""
                out.append(
                    (i, f"point {fmt_point(p)} is outside the frame: fractions run 0..1{hint}")
                )
        elif (
            width is not None and height is not None and not (0 <= x <= width and 0 <= y <= height)
        ):
            out.append(
                (
                    i,
                    f"point {fmt_point(p)} is outside the {width}x{height} frame: "
                    f"x runs 0..{width}, y runs 0..{height}",
                )
            )
    return out


def to_pixels(
    points: Sequence[Sequence[float]], coords: Coords, width: int, height: int
) -> npt.NDArray[np.float64]:
    """Float (K, 2) pixel coordinates of ``points`` in a ``width`` × ``height`` frame."""
    arr = np.asarray(normalize(points), dtype=np.float64).reshape(-1, 2)
    if coords == "fraction":
        arr = arr * np.array([width, height], dtype=np.float64)
    return arr

"""Zones and masks of one camera, as written under ``cameras[].zones`` and ``.masks``.

Shape checks (enough points, no crossing, non-zero area) run while the file is
parsed; checks that need other parts of the file (the camera's resolution, the
declared units, the detector's classes, the ground control points) run in
:func:`geofence_checks`, called from ``site_checks``. Every reason names the zone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator

from detector.settings import ZoneOverrides
from geofence import GroundMap, Mask, UnitTree, UnknownUnitError, Zone, ZoneSet
from geofence.ground import find_outlier
from geofence.polygons import frame_problems, shape_problems
from sitewatch.config.types import SafeId, StrictModel

if TYPE_CHECKING:
    from sitewatch.config.site import CameraConfig, SiteConfig

Coord = Annotated[float, Field(ge=-1e6, le=1e6)]
Point = tuple[float, float]
PointIn = tuple[Coord, Coord]
Loc = tuple[str | int, ...]


def _shape(points: list[Point], what: str) -> list[Point]:
    problems = shape_problems(points)
    if problems:
        raise ValueError(f"{what}: {problems[0]}")
    return points


class MaskConfig(StrictModel):
    """A region never analysed (a road, a tree that sways, a neighbour's yard)."""

    id: SafeId | None = Field(None, description="Optional id shown in previews.")
    coords: Literal["fraction", "pixel"] = Field(
        "fraction", description="Units of polygon: fractions of the frame (default) or pixels."
    )
    polygon: list[PointIn] = Field(
        max_length=10000,
        description="Corners as [x, y] (3 or more, in order around the area); "
        "fractions of width/height unless coords: pixel.",
    )

    @field_validator("polygon")
    @classmethod
    def _polygon_shape(cls, value: list[Point], info: ValidationInfo) -> list[Point]:
        mask_id = info.data.get("id")
        return _shape(value, f"mask {mask_id!r}" if mask_id else "mask")


class ZoneConfig(ZoneOverrides):
    """An area watched for new structures, owned by one reporting unit.

    The detector fields (min_area, confirm_after, sensitivity, structure_classes)
    override ``detector:`` for this zone only.
    """

    id: SafeId = Field(description="Unique id within the camera: letters, digits, _ and -.")
    unit: str = Field(
        min_length=1,
        max_length=128,
        description="Reporting unit as town/village, e.g. 南屿镇/旗山村.",
    )
    coords: Literal["fraction", "pixel"] = Field(
        "fraction", description="Units of polygon: fractions of the frame (default) or pixels."
    )
    polygon: list[PointIn] = Field(
        max_length=10000,
        description="Corners as [x, y] (3 or more, in order around the area); "
        "fractions of width/height unless coords: pixel.",
    )
    name: str | None = Field(None, max_length=128, description="Human-readable zone name.")

    @field_validator("unit")
    @classmethod
    def _unit_path(cls, value: str, info: ValidationInfo) -> str:
        parts = [p.strip() for p in value.split("/")]
        if not all(parts) or len(parts) > 3:
            zone = info.data.get("id", "?")
            raise ValueError(
                f"zone {zone!r}: unit {value!r} should read town/village, e.g. 南屿镇/旗山村"
            )
        return "/".join(parts)

    @field_validator("polygon")
    @classmethod
    def _polygon_shape(cls, value: list[Point], info: ValidationInfo) -> list[Point]:
        return _shape(value, f"zone {info.data.get('id', '?')!r}")


def geofence_checks(site: SiteConfig) -> list[tuple[Loc, str]]:
    """Rules that need more than one zone: frame bounds, units, classes, ground points."""
    problems: list[tuple[Loc, str]] = []
    tree = site.units.tree() if site.units is not None else None
    for i, cam in enumerate(site.cameras):
        problems += _camera_checks(cam, ("cameras", i), tree, site.detector.structure_classes)
    return problems


def _camera_checks(
    cam: CameraConfig, at: Loc, tree: UnitTree | None, classes: list[str]
) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    res = cam.resolution
    if res is not None and (res[0] <= 0 or res[1] <= 0):
        problems.append(
            (at + ("resolution",), f"resolution must be [width, height] > 0, got {list(res)}")
        )
        res = None
    w, h = res if res is not None else (None, None)
    for j, zone in enumerate(cam.zones):
        here = at + ("zones", j)
        what = f"zone {zone.id!r}"
        problems += _frame_checks(zone.polygon, zone.coords, w, h, here, what, cam.id)
        if tree is not None:
            try:
                tree.resolve(zone.unit)
            except UnknownUnitError as exc:
                problems.append((here + ("unit",), f"{what}: {exc}"))
        for cls_name in zone.structure_classes or []:
            if cls_name not in classes:
                problems.append(
                    (
                        here + ("structure_classes",),
                        f"{what}: structure class {cls_name!r} is not in "
                        f"detector.structure_classes ({', '.join(classes)})",
                    )
                )
    mask_seen: dict[str, int] = {}
    for j, mask in enumerate(cam.masks):
        here = at + ("masks", j)
        what = f"mask {mask.id!r}" if mask.id else f"mask {j}"
        problems += _frame_checks(mask.polygon, mask.coords, w, h, here, what, cam.id)
        if mask.id is not None and mask.id in mask_seen:
            problems.append((here + ("id",), f"duplicate mask id {mask.id!r} in camera {cam.id!r}"))
        mask_seen.setdefault(mask.id or "", j)
    if cam.ground is not None:
        problems += _ground_checks(cam, at + ("ground",), res)
    return problems


def _frame_checks(
    polygon: list[Point], coords: str, w: int | None, h: int | None, here: Loc, what: str, cam: str
) -> list[tuple[Loc, str]]:
    if coords == "pixel" and w is None:
        return [
            (
                here + ("coords",),
                f"{what}: coords: pixel needs the camera's frame size: "
                f"add resolution: [width, height] to camera {cam!r}",
            )
        ]
    frame = frame_problems(polygon, "pixel" if coords == "pixel" else "fraction", w, h)
    return [(here + ("polygon", k), f"{what}: {reason}") for k, reason in frame]


def _ground_checks(
    cam: CameraConfig, at: Loc, res: tuple[int, int] | None
) -> list[tuple[Loc, str]]:
    ground = cam.ground
    assert ground is not None
    if res is None:
        return [
            (
                at,
                f"ground: control points are pixels: "
                f"add resolution: [width, height] to camera {cam.id!r}",
            )
        ]
    problems: list[tuple[Loc, str]] = []
    kind = ground.kind
    for k, p in enumerate(ground.points):
        if ("lonlat" if p.lonlat is not None else "metres") != kind:
            problems.append(
                (
                    at + ("points", k),
                    f"ground: mix of lonlat and metres: every point must use {kind}",
                )
            )
        for _, reason in frame_problems([p.pixel], "pixel", res[0], res[1]):
            problems.append((at + ("points", k, "pixel"), f"ground: control {reason}"))
    if ground.origin is not None and kind == "lonlat":
        problems.append((at + ("origin",), "ground: origin is only for metres control points"))
    if problems:
        return problems
    try:
        gm = ground.ground_map()
    except ValueError as exc:
        text = str(exc)
        for internal in ("GroundMap: ", "LocalPlane: ", "fit_homography: "):
            text = text.replace(internal, "")
        return [(at + ("points",), f"ground: {text}")]
    residuals = gm.residuals_m
    if not residuals.max() > ground.max_error_m:
        return []
    found = find_outlier(gm.pixels, gm.ground_m, ground.max_error_m)
    if found is not None:
        k, off = found
        return [
            (
                at + ("points", k),
                f"ground: control point is {off:.1f} m from where the other points put it "
                f"(max_error_m {ground.max_error_m:g}): check its pixel and {kind} values",
            )
        ]
    worst = int(residuals.argmax())
    return [
        (
            at + ("points",),
            f"ground: the control points do not fit one plane: points[{worst}] misses the fit "
            f"by {residuals[worst]:.1f} m (max_error_m {ground.max_error_m:g}); check them, "
            "or add points so that a single bad one can be named",
        )
    ]


def camera_zones(cam: CameraConfig, units: UnitTree | None = None) -> tuple[list[Zone], list[Mask]]:
    """The camera's zones and masks as geofence objects that fit any frame size.

    Pixel polygons are turned into fractions of the camera's declared ``resolution``,
    so a substream of another size gets the same areas. With ``units``, each zone's
    unit becomes its canonical ``town/village`` path. (``load_site`` has checked it all.)
    """
    zones = [
        Zone(
            z.id,
            units.resolve(z.unit).path if units is not None else z.unit,
            _as_fractions(cam, z.polygon, z.coords),
            "fraction",
            z.name,
        )
        for z in cam.zones
    ]
    masks = [Mask(_as_fractions(cam, m.polygon, m.coords), "fraction", m.id) for m in cam.masks]
    return zones, masks


def zoneset_for(
    cam: CameraConfig,
    width: int,
    height: int,
    units: UnitTree | None = None,
    min_overlap: float = 0.5,
) -> ZoneSet:
    """The camera's zones and masks for frames of ``width`` × ``height`` (see camera_zones)."""
    zones, masks = camera_zones(cam, units)
    return ZoneSet(zones, masks, width, height, min_overlap)


def ground_map_for(cam: CameraConfig, width: int, height: int) -> GroundMap | None:
    """The camera's ground mapping for frames of ``width`` × ``height`` (None if not set)."""
    if cam.ground is None:
        return None
    sx, sy = _scale(cam, width, height)
    gm = cam.ground.ground_map()
    return gm if (sx, sy) == (1.0, 1.0) else gm.scaled(sx, sy)


def _scale(cam: CameraConfig, width: int, height: int) -> tuple[float, float]:
    if cam.resolution is None:
        return 1.0, 1.0
    return width / cam.resolution[0], height / cam.resolution[1]


def _as_fractions(cam: CameraConfig, polygon: list[Point], coords: str) -> list[Point]:
    if coords != "pixel":
        return list(polygon)
    if cam.resolution is None:
        raise ValueError(f"camera {cam.id!r}: pixel polygons need resolution: [width, height]")
    w, h = cam.resolution
    return [(float(x) / w, float(y) / h) for x, y in polygon]

"""``sitewatch zones preview`` / ``zones geojson``: see a camera's zones, put them on a map."""

from __future__ import annotations

import argparse
import json
import math
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sitewatch.cli.common import (
    IMAGE_SUFFIXES,
    CommandError,
    CommandFailed,
    camera_or_fail,
    duration_arg,
    existing_file,
    load_site_or_fail,
    output_arg,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from sitewatch.config.site import CameraConfig


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("zones", help="draw a camera's zones over a frame, or export GeoJSON")
    inner = parser.add_subparsers(dest="zones_command", metavar="ACTION", required=True)
    prev = inner.add_parser(
        "preview", help="zones, masks, ids and units drawn over a camera frame (PNG/JPEG)"
    )
    prev.add_argument("--config", required=True, type=Path, metavar="FILE", help="site YAML")
    prev.add_argument("--camera", required=True, metavar="ID", help="camera id in the config")
    prev.add_argument(
        "--image",
        type=existing_file,
        metavar="IMG",
        help="draw over this image instead of a frame from the camera",
    )
    prev.add_argument(
        "-o",
        "--output",
        type=output_arg(IMAGE_SUFFIXES),
        metavar="OUT",
        help="image to write (.png or .jpg; default zones-ID.png)",
    )
    prev.add_argument(
        "--box",
        action="append",
        type=_parse_box,
        default=[],
        metavar="X1,Y1,X2,Y2",
        help="also draw this box (pixels) and print the zone it belongs to; repeatable",
    )
    prev.add_argument(
        "--timeout",
        type=duration_arg,
        default=30.0,
        metavar="T",
        help="give up reading a frame from the camera after T (seconds, or 10s, 1m)",
    )
    prev.set_defaults(func=run_preview)
    geo = inner.add_parser(
        "geojson", help="zones of cameras with a ground: mapping as GeoJSON (lon/lat)"
    )
    geo.add_argument("--config", required=True, type=Path, metavar="FILE", help="site YAML")
    geo.add_argument("--camera", action="append", metavar="ID", help="only this camera; repeatable")
    geo.add_argument("--masks", action="store_true", help="include masks as features")
    geo.add_argument(
        "-o",
        "--output",
        type=output_arg((".geojson", ".json")),
        metavar="OUT",
        help="file to write (.geojson or .json; default: stdout)",
    )
    geo.set_defaults(func=run_geojson)


def run_preview(args: argparse.Namespace) -> int:
    import cv2
    import numpy as np

    from geofence.preview import draw_zones
    from sitewatch.config.zones import ground_map_for, zoneset_for

    site = load_site_or_fail(args.config)
    cam = camera_or_fail(site, args.camera)
    boxes = np.array(args.box, dtype=np.float64).reshape(-1, 4)
    image = _read_image(str(args.image)) if args.image else grab_frame(cam, args.timeout)
    h, w = image.shape[:2]
    if cam.resolution is not None and tuple(cam.resolution) != (w, h):
        print(
            f"note: frame is {w}x{h}, camera resolution is {cam.resolution[0]}x"
            f"{cam.resolution[1]}: pixel polygons are scaled",
            file=sys.stderr,
        )
    tree = site.units.tree() if site.units is not None else None
    zs = zoneset_for(cam, w, h, tree)
    ground = ground_map_for(cam, w, h)
    notes: dict[str, str] = {}
    if ground is not None:
        for zone in zs.zones:
            area = ground.area_m2(zs.polygon_float_px(zone.id))
            notes[zone.id] = f"≈ {area:,.0f} m²" if area is not None else "above the horizon"
    assigned = zs.assign(boxes)
    labels = [z or "(none)" for z in assigned]
    out = draw_zones(image, zs, boxes=boxes, labels=labels, notes=notes)
    path = Path(args.output or f"zones-{cam.id}.png")
    if not cv2.imwrite(str(path), out):
        raise CommandFailed(f"cannot write {path}")
    for box, zone_id in zip(boxes, assigned, strict=True):
        print(f"box {','.join(f'{v:g}' for v in box)}: zone {zone_id or '(none)'}")
    print(f"{path}: {len(zs.zones)} zones, {len(zs.masks)} masks on a {w}x{h} frame")
    return 0


def _parse_box(text: str) -> list[float]:
    """``X1,Y1,X2,Y2``: four finite pixel values with X1 < X2 and Y1 < Y2."""
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        vals = []
    if len(vals) != 4 or not all(math.isfinite(v) and abs(v) <= 1e6 for v in vals):
        raise argparse.ArgumentTypeError(f"expected X1,Y1,X2,Y2 in pixels, got {text!r}")
    if not (vals[0] < vals[2] and vals[1] < vals[3]):
        raise argparse.ArgumentTypeError(f"expected X1 < X2 and Y1 < Y2, got {text!r}")
    return vals


def _read_image(path: str) -> npt.NDArray[np.uint8]:
    import cv2
    import numpy as np

    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise CommandFailed(f"cannot read image {path}: not a JPEG, PNG or other image")
    return np.asarray(image, dtype=np.uint8)


def grab_frame(cam: CameraConfig, timeout: float) -> npt.NDArray[np.uint8]:
    """The first decoded frame of the camera (RTSP or file); CommandError after ``timeout``."""
    import numpy as np

    from sitewatch.cli.common import check_source
    from streams import SourceError, open_source

    stop = threading.Event()
    timer = threading.Timer(timeout, stop.set)
    timer.daemon = True
    timer.start()
    try:
        check_source(cam.url, timeout=min(3.0, timeout))
        with open_source(cam.url, cam) as src:
            for frame in src.frames(stop):
                return np.asarray(frame.image, dtype=np.uint8)
    except SourceError as exc:
        raise CommandFailed(f"camera {cam.id!r}: {exc}") from None
    except CommandFailed as exc:
        raise CommandFailed(f"camera {cam.id!r}: {exc}; use --image IMG") from None
    finally:
        timer.cancel()
    why = f"no frame within {timeout:g} s" if stop.is_set() else "the video has no frames"
    raise CommandFailed(f"camera {cam.id!r} ({cam.url}): {why}; use --image IMG")


def run_geojson(args: argparse.Namespace) -> int:
    from geofence.geojson import NotOnGroundError, merge, zones_geojson
    from sitewatch.config.zones import ground_map_for, zoneset_for

    site = load_site_or_fail(args.config)
    cams = [camera_or_fail(site, c) for c in args.camera] if args.camera else list(site.cameras)
    tree = site.units.tree() if site.units is not None else None
    parts: list[dict[str, Any]] = []
    for cam in cams:
        if cam.ground is None or cam.resolution is None:
            print(f"camera {cam.id!r}: no ground: section, skipped", file=sys.stderr)
            continue
        w, h = cam.resolution
        ground = ground_map_for(cam, w, h)
        assert ground is not None
        try:
            zs = zoneset_for(cam, w, h, tree)
            parts.append(zones_geojson(zs, ground, camera=cam.id, masks=args.masks))
        except NotOnGroundError as exc:
            raise CommandError(f"camera {cam.id!r}: {exc}") from None
    if not parts:
        raise CommandError("no camera has a ground: section; nothing to export")
    text = json.dumps(merge(parts), ensure_ascii=False, indent=1)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        n = sum(len(p["features"]) for p in parts)
        print(f"{args.output}: {n} features from {len(parts)} cameras", file=sys.stderr)
    else:
        print(text)
    return 0

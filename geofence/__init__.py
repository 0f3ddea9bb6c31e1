"""Zones, masks, reporting units and pixel-to-ground mapping.

``geofence.preview`` (Pillow, fonts) and ``geofence.geojson`` are imported on demand.
"""

from geofence.ground import GroundMap, LocalPlane
from geofence.polygons import frame_problems, shape_problems
from geofence.units import Unit, UnitTree, UnknownUnitError
from geofence.zones import Mask, Zone, ZoneSet

__all__ = [
    "GroundMap",
    "LocalPlane",
    "Mask",
    "Unit",
    "UnitTree",
    "UnknownUnitError",
    "Zone",
    "ZoneSet",
    "frame_problems",
    "shape_problems",
]

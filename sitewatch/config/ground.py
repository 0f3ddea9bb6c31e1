"""A camera's optional ``ground:`` section: control points tying pixels to the ground.

```yaml
ground:
  points:                       # four or more, spread over the watched area
    - {pixel: [412, 655], lonlat: [119.20512, 26.03421]}
    - {pixel: [1510, 640], lonlat: [119.20601, 26.03418]}
    ...
```

``pixel`` is in the camera's ``resolution``; the other end is ``lonlat`` (longitude,
latitude) or ``metres`` ([east, north] on a local grid, optionally placed on the map
with ``origin: [lon, lat]``). All points use the same kind.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from geofence.ground import GroundMap
from sitewatch.config.types import StrictModel

Pixel = Annotated[float, Field(ge=-1e5, le=1e5)]
Metres = Annotated[float, Field(ge=-1e7, le=1e7)]


def _lonlat(value: tuple[float, float] | None, strict_poles: bool = False) -> None:
    if value is None:
        return
    lon, lat = value
    ok_lat = -90 < lat < 90 if strict_poles else -90 <= lat <= 90
    if not (-180 <= lon <= 180 and ok_lat):
        raise ValueError(
            f"[{lon:g}, {lat:g}] is not [longitude, latitude] in degrees "
            "(longitude -180..180, latitude -90..90)"
        )


class ControlPoint(StrictModel):
    pixel: tuple[Pixel, Pixel] = Field(description="[x, y] in pixels of the camera resolution.")
    lonlat: tuple[float, float] | None = Field(
        None, description="[longitude, latitude] in degrees (WGS84)."
    )
    metres: tuple[Metres, Metres] | None = Field(
        None, description="[east, north] in metres on a local grid."
    )

    @field_validator("lonlat")
    @classmethod
    def _degrees(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        _lonlat(value)
        return value

    @model_validator(mode="after")
    def _one_ground_end(self) -> ControlPoint:
        if (self.lonlat is None) == (self.metres is None):
            raise ValueError("give exactly one of lonlat: [lon, lat] or metres: [east, north]")
        return self


class GroundConfig(StrictModel):
    """Control points for the camera's pixel → ground mapping."""

    points: list[ControlPoint] = Field(
        min_length=4,
        max_length=1000,
        description="Four or more control points, spread over the watched area.",
    )
    origin: tuple[float, float] | None = Field(
        None, description="[lon, lat] of metres [0, 0], to put a metres grid on the map."
    )

    max_error_m: float = Field(
        2.0, gt=0, le=1000, description="Reject the points when one misses its fit by more metres."
    )

    @field_validator("origin")
    @classmethod
    def _origin_degrees(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        _lonlat(value, strict_poles=True)
        return value

    @property
    def kind(self) -> str:
        return "lonlat" if self.points[0].lonlat is not None else "metres"

    def ground_map(self) -> GroundMap:
        """The mapping, in pixels of the camera's declared resolution."""
        pixels = [p.pixel for p in self.points]
        if self.kind == "lonlat":
            ground = [p.lonlat for p in self.points if p.lonlat is not None]
            return GroundMap(pixels, ground, kind="lonlat")
        ground = [p.metres for p in self.points if p.metres is not None]
        return GroundMap(pixels, ground, kind="metres", origin_lonlat=self.origin)

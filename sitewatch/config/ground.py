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

from pydantic import BaseModel, ConfigDict, Field, model_validator

from geofence.ground import GroundMap


class ControlPoint(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pixel: tuple[float, float] = Field(description="[x, y] in pixels of the camera resolution.")
    lonlat: tuple[float, float] | None = Field(
        None, description="[longitude, latitude] in degrees (WGS84)."
    )
    metres: tuple[float, float] | None = Field(
        None, description="[east, north] in metres on a local grid."
    )

    @model_validator(mode="after")
    def _one_ground_end(self) -> ControlPoint:
        if (self.lonlat is None) == (self.metres is None):
            raise ValueError("give exactly one of lonlat: [lon, lat] or metres: [east, north]")
        if self.lonlat is not None:
            lon, lat = self.lonlat
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(
                    f"lonlat {list(self.lonlat)} is not [longitude, latitude] in degrees"
                )
        return self


class GroundConfig(BaseModel):
    """Control points for the camera's pixel → ground mapping."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    points: list[ControlPoint] = Field(
        min_length=4, description="Four or more control points, spread over the watched area."
    )
    origin: tuple[float, float] | None = Field(
        None, description="[lon, lat] of metres [0, 0], to put a metres grid on the map."
    )
    max_error_m: float = Field(
        2.0, gt=0, le=1000, description="Reject the points when one misses its fit by more metres."
    )

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

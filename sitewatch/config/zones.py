"""Zones and masks of one camera, as written under ``cameras[].zones`` and ``.masks``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from detector.settings import ZoneOverrides

Point = tuple[float, float]


class MaskConfig(BaseModel):
    """A region never analysed (a road, a tree that sways, a neighbour's yard)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(None, max_length=64, description="Optional name shown in previews.")
    polygon: list[Point] = Field(
        min_length=3, description="Corners as [x, y]; fractions of width/height unless coords: pixel."
    )
    coords: Literal["fraction", "pixel"] = Field(
        "fraction", description="Units of polygon: fractions of the frame (default) or pixels."
    )


class ZoneConfig(ZoneOverrides):
    """An area watched for new structures, owned by one reporting unit.

    The detector fields (min_area, confirm_after, sensitivity, structure_classes)
    override ``detector:`` for this zone only.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        min_length=1, max_length=64, pattern=r"^[\w.-]+$", description="Unique id within the camera."
    )
    unit: str = Field(
        min_length=1, max_length=128, description="Reporting unit as town/village, e.g. 南屿镇/旗山村."
    )
    polygon: list[Point] = Field(
        min_length=3, description="Corners as [x, y]; fractions of width/height unless coords: pixel."
    )
    coords: Literal["fraction", "pixel"] = Field(
        "fraction", description="Units of polygon: fractions of the frame (default) or pixels."
    )
    name: str | None = Field(None, max_length=128, description="Human-readable zone name.")

"""Reporting units, declared once at the top of the site YAML under ``units:``.

```yaml
units:
  district: 闽侯县
  towns:
    南屿镇: [旗山村, 南井村, 柳浪社区]
    上街镇: [榕桥村]
```

Zones then name their unit as ``town/village`` (``南屿镇/旗山村``) or ``town``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from geofence.units import UnitTree
from sitewatch.config.types import StrictModel

_NAME = r"^[^/\s]+$"


def _unit_name(value: str) -> str:
    if not value.strip() or "/" in value or any(c.isspace() for c in value) or len(value) > 64:
        raise ValueError(f"unit name {value!r} must be 1 to 64 characters without '/' or spaces")
    return value


UnitName = Annotated[str, AfterValidator(_unit_name)]


class UnitsConfig(StrictModel):
    """One district with its towns, each with its villages and communities."""

    district: str = Field(
        min_length=1, max_length=64, pattern=_NAME, description="The district, e.g. 闽侯县."
    )
    towns: dict[UnitName, list[UnitName]] = Field(
        min_length=1,
        description="Town name → its villages and communities (names ending 社区 are communities).",
    )

    def tree(self) -> UnitTree:
        """The hierarchy (a repeated village counts once; :func:`units_checks` reports it)."""
        return UnitTree(self.district, {t: list(dict.fromkeys(v)) for t, v in self.towns.items()})


def units_checks(units: UnitsConfig) -> list[tuple[tuple[str | int, ...], str]]:
    """Villages listed twice under one town (each repeat at its own line)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    for town, villages in units.towns.items():
        seen: set[str] = set()
        for k, v in enumerate(villages):
            if v in seen:
                problems.append((("units", "towns", town, k), f"{town} lists {v!r} twice"))
            seen.add(v)
    return problems

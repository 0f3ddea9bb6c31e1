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

from pydantic import BaseModel, ConfigDict, Field, field_validator

from geofence.units import UnitTree

_NAME = r"^[^/\s]+$"


class UnitsConfig(BaseModel):
    """One district with its towns, each with its villages and communities."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    district: str = Field(
        min_length=1, max_length=64, pattern=_NAME, description="The district, e.g. 闽侯县."
    )
    towns: dict[str, list[str]] = Field(
        min_length=1,
        description="Town name → its villages and communities (names ending 社区 are communities).",
    )

    @field_validator("towns")
    @classmethod
    def _names(cls, towns: dict[str, list[str]]) -> dict[str, list[str]]:
        for town, villages in towns.items():
            if not town.strip() or "/" in town:
                raise ValueError(f"town name {town!r} must be non-empty and contain no '/'")
            for v in villages:
                if not v.strip() or "/" in v:
                    raise ValueError(f"{town}: village name {v!r} must be non-empty, without '/'")
        return towns

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

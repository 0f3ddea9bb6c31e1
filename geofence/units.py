"""Reporting units: one district, its towns, their villages and communities.

Zones name their unit as ``town/village`` (``南屿镇/旗山村``), or just ``town`` for
areas the town itself answers for; the district name may lead (``闽侯县/南屿镇/旗山村``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

Level = Literal["district", "town", "village", "community"]

_COMMUNITY_SUFFIXES = ("社区", "居委会", "居民委员会")


def level_of(name: str) -> Level:
    """``community`` for names ending 社区 / 居委会, else ``village``."""
    return "community" if name.endswith(_COMMUNITY_SUFFIXES) else "village"


@dataclass(frozen=True)
class Unit:
    """One reporting unit; ``path`` (``南屿镇/旗山村``) is its canonical reference."""

    name: str
    level: Level
    district: str
    town: str | None = None

    @property
    def path(self) -> str:
        return self.name if self.town is None else f"{self.town}/{self.name}"


class UnknownUnitError(KeyError):
    """A unit reference that names no declared unit; ``str()`` explains and suggests."""

    def __str__(self) -> str:
        return str(self.args[0])


class UnitTree:
    """The declared hierarchy; resolves the unit references written on zones."""

    def __init__(self, district: str, towns: Mapping[str, Sequence[str]]) -> None:
        if not district or "/" in district:
            raise ValueError(f"UnitTree: district must be a name without '/', got {district!r}")
        self.district = Unit(district, "district", district)
        self._towns: dict[str, Unit] = {}
        self._children: dict[str, dict[str, Unit]] = {}
        for town, villages in towns.items():
            if not town or "/" in town:
                raise ValueError(f"UnitTree: town must be a name without '/', got {town!r}")
            self._towns[town] = Unit(town, "town", district)
            kids: dict[str, Unit] = {}
            for v in villages:
                if not v or "/" in v:
                    raise ValueError(
                        f"UnitTree: {town}: village must be a name without '/', got {v!r}"
                    )
                if v in kids:
                    raise ValueError(f"UnitTree: {town} lists {v!r} twice")
                kids[v] = Unit(v, level_of(v), district, town)
            self._children[town] = kids

    @property
    def towns(self) -> list[Unit]:
        return list(self._towns.values())

    def children(self, town: str) -> list[Unit]:
        return list(self._children.get(town, {}).values())

    def units(self) -> list[Unit]:
        """Every unit, district first, each town followed by its villages."""
        out = [self.district]
        for town, unit in self._towns.items():
            out.append(unit)
            out.extend(self._children[town].values())
        return out

    def resolve(self, ref: str) -> Unit:
        """The unit ``ref`` names; raises :class:`UnknownUnitError` with a suggestion."""
        parts = [p.strip() for p in ref.split("/")]
        if parts and parts[0] == self.district.name and len(parts) > 1:
            parts = parts[1:]
        if len(parts) == 1 and parts[0] == self.district.name:
            return self.district
        if not parts or len(parts) > 2 or not all(parts):
            raise UnknownUnitError(
                f"unit {ref!r} should read town/village (e.g. {self._example()})"
            )
        town = self._towns.get(parts[0])
        if town is None:
            raise UnknownUnitError(self._unknown_town(ref, parts))
        if len(parts) == 1:
            return town
        unit = self._children[parts[0]].get(parts[1])
        if unit is None:
            names = list(self._children[parts[0]])
            near = difflib.get_close_matches(parts[1], names, n=1, cutoff=0.3)
            hint = f"; did you mean {parts[0]}/{near[0]}?" if near else ""
            listed = ", ".join(names) or "none"
            raise UnknownUnitError(
                f"unknown unit {ref!r}: {parts[0]} has no {parts[1]!r} (declared: {listed}){hint}"
            )
        return unit

    def _unknown_town(self, ref: str, parts: list[str]) -> str:
        if len(parts) == 1:  # maybe a village written without its town
            owners = [t for t, kids in self._children.items() if parts[0] in kids]
            if len(owners) == 1:
                return f"unit {ref!r} needs its town: write {owners[0]}/{parts[0]}"
            if owners:
                both = " or ".join(f"{t}/{parts[0]}" for t in owners)
                return f"unit {ref!r} is ambiguous: write {both}"
        near = difflib.get_close_matches(parts[0], list(self._towns), n=1, cutoff=0.3)
        hint = f"; did you mean {near[0]}?" if near else ""
        listed = ", ".join(self._towns) or "none"
        where = self.district.name
        return f"unknown unit {ref!r}: no town {parts[0]!r} in {where} (towns: {listed}){hint}"

    def _example(self) -> str:
        for town, kids in self._children.items():
            if kids:
                return f"{town}/{next(iter(kids))}"
        return next(iter(self._towns), "南屿镇") + "/旗山村"

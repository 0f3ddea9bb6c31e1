"""The web pages' optional ``pages:`` section: a map tile server for the maps.

```yaml
pages:
  tile_url: "https://tiles.example.org/{z}/{x}/{y}.png"   # Web Mercator, 256 px tiles
  tile_attribution: "© OpenStreetMap contributors"
```

Without ``tile_url`` the maps draw zones and cases on a plain background and the browser
asks no other host for anything (district networks are often offline).
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from sitewatch.config.types import StrictModel

PLACEHOLDERS = ("{z}", "{x}", "{y}")


class PagesConfig(StrictModel):
    """Options of the web pages."""

    tile_url: str | None = Field(
        None,
        max_length=512,
        description="Map tile server as an http(s) URL template with {z}, {x} and {y} "
        "(XYZ / slippy-map tiles, 256 px, Web Mercator); none: maps without tiles.",
    )
    tile_attribution: str = Field(
        "",
        max_length=200,
        description="Credit shown under every map that draws tiles (plain text).",
    )
    tile_max_zoom: int = Field(
        19, ge=1, le=22, description="Highest zoom level the tile server has."
    )

    @field_validator("tile_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.match(r"^https?://[^\s/?#{}]+", value) or re.search(r"\s", value):
            raise ValueError(f"tile_url must be an http:// or https:// URL, got {value!r}")
        missing = [p for p in PLACEHOLDERS if p not in value]
        if missing:
            raise ValueError(f"tile_url must contain {{z}}, {{x}} and {{y}}; missing {missing}")
        other = set(re.findall(r"\{[^}]*\}", value)) - set(PLACEHOLDERS)
        if other:
            raise ValueError(
                f"tile_url: unknown placeholders {sorted(other)} (only {{z}} {{x}} {{y}})"
            )
        return value

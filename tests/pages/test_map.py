"""Zone outlines from the ground mapping into the database and onto the case's map; the
optional tile server; the Web Mercator sums the map uses."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely import Point, Polygon

from api.pages.geo import HEIGHT, TILE, WIDTH, MapView, fit
from api.settings import TileLayer
from models.sync import sync_site
from sitewatch.apiconfig import settings_from_site
from sitewatch.cli import main
from sitewatch.config.loader import ConfigError
from sitewatch.config.site import load_site
from sitewatch.db import make_engine
from tests.models.conftest import detection
from tests.pages.conftest import Api, cookie_client
from tests.pages.mapsite import LONLAT, site_yaml, with_outlines


def test_db_upgrade_stores_each_zones_outline_from_the_ground_mapping(tmp_path: Path) -> None:
    cfg = site_yaml(tmp_path, f"sqlite:///{tmp_path / 'site.db'}")
    assert main(["db", "upgrade", "--config", str(cfg)]) == 0
    assert main(["db", "upgrade", "--config", str(cfg)]) == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'site.db'}")
    with engine.connect() as c:
        rows = dict(c.execute(sa.text("SELECT zone_id, outline FROM zones")).all())
        syncs = c.execute(sa.text("SELECT count(*) FROM audit_log")).scalar()
    engine.dispose()
    assert syncs == 1  # the second upgrade found the same outlines
    assert rows["field"] is None  # cam2 has no ground: section
    outline = json.loads(rows["yard"])
    assert outline["type"] == "Polygon"
    ring = outline["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5
    # the zone's corners are the control points' pixels: they land on their lon/lat
    for lon, lat in LONLAT:
        assert min(abs(p[0] - lon) + abs(p[1] - lat) for p in ring) < 1e-6


def test_case_detail_gives_the_zone_outline_and_the_page_draws_it(api: Api, tmp_path: Path) -> None:
    early = int(api.ingest(detection(3, (100, 150, 200, 200))).json()["case_id"])  # type: ignore[attr-defined]
    spec = with_outlines(api, tmp_path)
    with api.services.session() as s, s.begin():  # stored as read back: nothing to change
        assert sync_site(s, spec, now=api.clock()) == {"units": 0, "cameras": 0, "zones": 0}
    r = api.ingest(detection(1, (280, 200, 360, 260)))
    cid = int(r.json()["case_id"])  # type: ignore[attr-defined]
    body = api.client.get(f"/api/v1/cases/{cid}", headers=api.auth("leader")).json()
    zone = body["zone_outline"]
    assert zone["type"] == "Feature" and zone["geometry"]["type"] == "Polygon"
    assert zone["properties"] == {"kind": "zone", "camera": "cam1", "id": "yard", "name": "院子"}
    ground = Polygon(zone["geometry"]["coordinates"][0])
    assert ground.contains(Point(body["lon"], body["lat"]))  # the case lies in its zone
    html = cookie_client(api, "leader").get(f"/cases/{cid}").text
    corners = re.search(r'<polygon points="([^"]+)" class="zone-outline"', html)
    point = re.search(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="7" class="point"', html)
    assert corners and point, html
    drawn = Polygon([tuple(map(float, p.split(","))) for p in corners.group(1).split()])
    x, y = float(point.group(1)), float(point.group(2))
    assert drawn.contains(Point(x, y)) and (x, y) == (WIDTH / 2, HEIGHT / 2)
    assert drawn.bounds[0] >= 0 and drawn.bounds[2] <= WIDTH and drawn.bounds[3] <= HEIGHT
    assert "<image" not in html  # no tile server named: nothing fetched from elsewhere
    # filed before its camera had a ground mapping: no position, the map shows the zone
    html = cookie_client(api, "leader").get(f"/cases/{early}").text
    assert 'class="zone-outline"' in html and 'class="point"' not in html
    # a camera case without a zone outline (cam2 has no ground mapping) has no map
    other = api.ingest(detection(2, camera="cam2", zone="field"))
    oid = int(other.json()["case_id"])  # type: ignore[attr-defined]
    assert (
        api.client.get(f"/api/v1/cases/{oid}", headers=api.auth("leader")).json()["zone_outline"]
        is None
    )
    assert 'id="case-map"' not in cookie_client(api, "leader").get(f"/cases/{oid}").text


def osm_tile(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    """The OpenStreetMap wiki's formula (tan/sec), independent of api.pages.geo's."""
    n = 2**zoom
    phi = math.radians(lat)
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(phi)) / math.pi) / 2 * n)


def test_tiles_cover_the_view_and_line_up_with_the_points() -> None:
    view = MapView(119.2051, 26.0342, 17)
    assert view.xy(119.2051, 26.0342) == (WIDTH / 2, HEIGHT / 2)
    tiles = view.tiles("http://t/{z}/{x}/{y}.png")
    names = {t["href"] for t in tiles}
    tx, ty = osm_tile(119.2051, 26.0342, 17)
    assert f"http://t/17/{tx}/{ty}.png" in names
    home = next(t for t in tiles if t["href"] == f"http://t/17/{tx}/{ty}.png")
    assert home["x"] <= WIDTH / 2 < home["x"] + TILE and home["y"] <= HEIGHT / 2 < home["y"] + TILE
    # together the tiles cover the whole view, each once
    assert min(t["x"] for t in tiles) <= 0 and max(t["x"] for t in tiles) + TILE >= WIDTH
    assert min(t["y"] for t in tiles) <= 0 and max(t["y"] for t in tiles) + TILE >= HEIGHT
    assert len(names) == len(tiles) <= 6
    # ~1.07 m per unit at 26° N, zoom 17; the scale bar is a round length
    assert view.metres_per_unit == pytest.approx(1.0725, rel=1e-3)
    metres, units = view.scale_bar()
    assert metres == 100 and units == pytest.approx(100 / view.metres_per_unit, abs=0.01)


def test_fit_zooms_out_until_every_point_shows() -> None:
    near = fit((119.2051, 26.0342), [(119.2055, 26.0344)])
    far = fit((119.2051, 26.0342), [(119.2141, 26.0342)])  # ~900 m east
    assert near.zoom == 17 and far.zoom < near.zoom
    x, _ = far.xy(119.2141, 26.0342)
    assert x <= WIDTH - 24 and fit((119.2051, 26.0342), [], max_zoom=15).zoom == 15


def test_the_tile_server_key(tmp_path: Path) -> None:
    good = (
        'pages:\n  tile_url: "https://tiles.example/{z}/{x}/{y}.png"\n'
        '  tile_attribution: "© 测绘"\n'
    )
    site = load_site(site_yaml(tmp_path, pages=good))
    settings = settings_from_site(site, {"SITEWATCH_SECRET_KEY": "k" * 40})
    assert settings.tiles == TileLayer("https://tiles.example/{z}/{x}/{y}.png", "© 测绘", 19)
    plain = settings_from_site(load_site(site_yaml(tmp_path)), {"SITEWATCH_SECRET_KEY": "k" * 40})
    assert plain.tiles is None
    for bad, why in (
        ('"https://tiles.example/{z}/{x}.png"', "missing"),
        ('"ftp://tiles.example/{z}/{x}/{y}.png"', "http"),
        ('"https://tiles.example/{s}/{z}/{x}/{y}.png"', "unknown placeholders"),
    ):
        with pytest.raises(ConfigError, match=why):
            load_site(site_yaml(tmp_path, pages=f"pages:\n  tile_url: {bad}\n"))

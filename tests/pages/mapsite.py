"""A site YAML whose camera cam1 has a ground mapping (so its zone gets an outline), the
same units and cameras as tests/models' SPEC, and a small local tile server."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from PIL import Image

from models.sync import SiteSpec, sync_site
from sitewatch.casedb import site_spec
from sitewatch.config.site import load_site

# the ground under cam1's lower two thirds (640×360 frames): the far edge is wider
PIXELS = [(0, 120), (640, 120), (640, 360), (0, 360)]
LONLAT = [(119.2040, 26.0352), (119.2062, 26.0352), (119.2054, 26.0338), (119.2048, 26.0338)]


def site_yaml(root: Path, db_url: str = "sqlite:///site.db", pages: str = "") -> Path:
    points = "\n".join(
        f"        - {{pixel: [{px}, {py}], lonlat: [{lon}, {lat}]}}"
        for (px, py), (lon, lat) in zip(PIXELS, LONLAT, strict=True)
    )
    text = f"""units:
  district: 闽侯县
  towns:
    南屿镇: [旗山村, 南井村]
    上街镇: [榕桥村]
cameras:
  - id: cam1
    name: 旗山村村口
    url: rtsp://127.0.0.1:8554/cam1
    resolution: [640, 360]
    ground:
      points:
{points}
    zones:
      - id: yard
        name: 院子
        unit: 南屿镇/旗山村
        coords: pixel
        polygon: [[0, 120], [640, 120], [640, 360], [0, 360]]
  - id: cam2
    name: 榕桥村
    url: rtsp://127.0.0.1:8554/cam2
    zones:
      - id: field
        name: 农田
        unit: 上街镇/榕桥村
        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]
database:
  url: {db_url}
{pages}"""
    path = root / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def with_outlines(api: Any, root: Path) -> SiteSpec:
    """Sync the YAML's outlines into the API's database and give cam1 its ground mapping
    (so detections get a position), as ``sitewatch api`` would from that file."""
    site = load_site(site_yaml(root))
    spec = site_spec(site)
    with api.services.session() as s, s.begin():
        sync_site(s, spec, now=api.clock())
    cam = site.camera("cam1")
    assert cam.ground is not None
    ground = {"cam1": (cam.ground.ground_map(), cam.resolution)}
    api.services.settings = replace(api.services.settings, ground=ground)
    return spec


def png(size: int = 256) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (200, 220, 240)).save(buf, "PNG")
    return buf.getvalue()


@contextmanager
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """A tile server on 127.0.0.1: its base URL and the paths it was asked for."""
    seen: list[str] = []
    body = png()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, name="tiles", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

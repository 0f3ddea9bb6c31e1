"""The whole path, as deployed on one machine: a GStreamer RTSP camera serves a scene in
which a shed is built and later demolished → the worker confirms it → the API opens a case
with its evidence → the operator confirms → the determiner rules it illegal → the
rectifier uploads photos and the area → the camera reports the shed `gone`, shown on the
case → the supervisor verifies → closed, and the statistics show the demolished area.
Real HTTP, a real RTSP server, the real database (PostgreSQL when reachable)."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from PIL import Image

from sitewatch.config import load_site
from sitewatch.embedded import Embedded
from streams.simulator import Simulator, free_port, unavailable_reason

PASSWORD = "e2e-password-1"
ROLES = {
    "operator": "南屿镇",
    "determiner": "南屿镇",
    "rectifier": "南屿镇",
    "supervisor": "南屿镇",
    "leader": "闽侯县",
}


def _scene(folder: Path) -> tuple[Path, Any]:
    try:
        from synth.scene import write_video
        from synth.suite import get_scenario
    except ImportError:  # before the scene generator moved out of detector/
        from synth.scene import write_video  # type: ignore[no-redef]
        from synth.suite import get_scenario  # type: ignore[no-redef]
    scenario = get_scenario("demolished")
    video = folder / "demolished.mp4"
    write_video(scenario, str(video))
    return video, scenario


def _wait(what: str, predicate: Callable[[], Any], timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _photo() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((120, 160, 3), 140, np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.slow
def test_camera_to_closed_case(tmp_path: Path, database_url: str) -> None:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    video, scenario = _scene(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        api_port = s.getsockname()[1]
    with Simulator([video], free_port()) as sim:
        site = scenario.site_config(sim.urls[0])
        site["cameras"][0]["sample_interval"] = "5m"
        site.update(
            units={"district": "闽侯县", "towns": {"南屿镇": ["旗山村"], "上街镇": ["榕桥村"]}},
            database={"url": database_url},
            api={"host": "127.0.0.1", "port": api_port},
            storage={"evidence_dir": "evidence", "reference_dir": "refs"},
            worker={"outbox_file": "outbox.sqlite3", "heartbeat": "1s"},
        )
        cfg = tmp_path / "site.yaml"
        cfg.write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
        app = Embedded(load_site(cfg), speed=scenario.speed)
        started = app.start()
        try:
            _walk_through(app, started.url)
        finally:
            app.stop()


def _walk_through(app: Embedded, base: str) -> None:
    from api.accounts import add_user
    from models.enums import Role

    sv = app.services
    with sv.session() as s, s.begin():
        for name, unit in ROLES.items():
            add_user(
                s,
                name=name,
                role=Role(name),
                unit=unit,
                now=sv.clock(),
                passwords=sv.passwords,
                api_keys=sv.api_keys,
                password=PASSWORD,
            )
    c = httpx.Client(base_url=base, timeout=30)

    def auth(who: str) -> dict[str, str]:
        tok = c.post("/api/v1/auth/token", data={"username": who, "password": PASSWORD}).json()
        return {"Authorization": f"Bearer {tok['access_token']}"}

    op, det, rect, sup, lead = (auth(n) for n in ROLES)
    items = _wait(
        "the worker's detection to open a case",
        lambda: c.get("/api/v1/cases", headers=op).json()["items"],
        120,
    )
    cid = items[-1]["id"]
    case = c.get(f"/api/v1/cases/{cid}", headers=op).json()
    assert (
        case["source"] == "camera" and case["camera"] == "cam1" and case["unit"].endswith("旗山村")
    )
    kinds = {e["kind"] for e in case["evidence"]}
    assert {"before", "after", "snapshot", "frame"} <= kinds, kinds
    snap = next(e for e in case["evidence"] if e["kind"] == "snapshot")
    assert c.get(snap["url"], headers=op).content[:3] == b"\xff\xd8\xff"  # a JPEG
    cams = c.get("/api/v1/cameras", headers=op).json()
    assert cams[0]["id"] == "cam1" and cams[0]["last_heartbeat_at"] is not None

    def take(h: dict[str, str], body: dict[str, object], files: Any = None) -> dict[str, Any]:
        if files is None:
            r = c.post(f"/api/v1/cases/{cid}/transitions", json=body, headers=h)
        else:
            r = c.post(f"/api/v1/cases/{cid}/transitions", data=body, files=files, headers=h)
        assert r.status_code == 201, r.text
        return r.json()["case"]  # type: ignore[no-any-return]

    take(op, {"name": "confirm", "label": "steel_roof_shed"})
    take(det, {"name": "rule_illegal", "comment": "未批先建"})
    take(
        rect,
        {"name": "rectified", "area_m2": "42.5", "comment": "已拆除"},
        files=[("files", ("拆除后.jpg", _photo(), "image/jpeg"))],
    )
    gone = _wait(
        "the camera to report the shed gone",
        lambda: [
            e
            for e in c.get(f"/api/v1/cases/{cid}", headers=sup).json()["timeline"]
            if e["kind"] == "camera_gone"
        ],
        120,
    )
    assert gone[0]["detection_id"] is not None
    closed = take(sup, {"name": "verified", "comment": "现场核查已拆除"})
    assert closed["stage"] == "closed" and closed["outcome"] == "demolished"
    assert closed["camera_gone_at"] is not None
    day = sv.policy.calendar.local_day(sv.clock()).isoformat()
    stats = c.get(f"/api/v1/stats?from={day}&to={day}", headers=lead).json()
    assert stats["demolished_m2_by_town"] == {"南屿镇": {day[:7]: 42.5}}

"""Ingest under concurrent duplicates (a real uvicorn, 20 threads), uploads that must be
refused without storing anything, and Range downloads so clips seek."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from tests.api.conftest import Api, jpeg
from tests.models.conftest import detection


@pytest.fixture()
def live(api: Api) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    server = uvicorn.Server(
        uvicorn.Config(
            api.client.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _count(api: Api, table: str) -> int:
    with api.services.engine.connect() as c:
        return int(c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def _blobs(api: Api) -> list[Path]:
    root = api.services.settings.evidence_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_twenty_concurrent_duplicates_make_one_case(api: Api, live: str) -> None:
    rec = detection(1)
    files = {
        "detection": (None, json.dumps(rec), "application/json"),
        "before": ("before.jpg", jpeg(1), "image/jpeg"),
        "after": ("after.jpg", jpeg(2), "image/jpeg"),
    }
    headers = {**api.auth("worker"), "Idempotency-Key": str(rec["id"])}
    start = threading.Barrier(20)
    answers: list[tuple[int, dict[str, object]]] = []

    def post() -> None:
        with httpx.Client(timeout=60) as c:
            start.wait()
            r = c.post(f"{live}/api/v1/detections", files=files, headers=headers)
            answers.append((r.status_code, r.json()))

    threads = [threading.Thread(target=post) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    codes = sorted(code for code, _ in answers)
    assert codes == [200] * 19 + [201], codes
    assert len({json.dumps(b, sort_keys=True) for _, b in answers}) == 1
    assert (_count(api, "cases"), _count(api, "detections")) == (1, 1)
    assert _count(api, "evidence") == 2 and len(_blobs(api)) == 2  # stored once


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("x", b"\0" * (50 << 20))
    return buf.getvalue()


BOUNDARY = "sitewatchtestboundary"


def _multipart(part: str, name: str, data: bytes) -> bytes:
    """Written by hand: clients escape a NUL in a file name; an attacker does not."""
    rec = json.dumps(detection(1)).encode()
    return b"".join(
        [
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="detection"\r\n'
            "Content-Type: application/json\r\n\r\n".encode(),
            rec,
            b"\r\n",
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{part}"; filename="'.encode(),
            name.encode(),
            b'"\r\nContent-Type: image/jpeg\r\n\r\n',
            data,
            f"\r\n--{BOUNDARY}--\r\n".encode(),
        ]
    )


ELF = b"\x7fELF\x02\x01\x01\0" + b"\0" * 200


@pytest.mark.parametrize(
    ("part", "name", "data", "status"),
    [
        ("snapshot", "snapshot.jpg", ELF, 415),  # an executable named .jpg
        ("clip", "clip.mp4", _zip_bomb(), 415),  # a zip bomb named .mp4
        ("snapshot", "../../x.jpg", jpeg(1), 400),
        ("snapshot", "/etc/passwd", jpeg(1), 400),
        ("snapshot", "a\0b.jpg", jpeg(1), 400),
        ("snapshot", "big.jpg", jpeg(1, (3000, 3000)) + b"\0" * (3 << 20), 413),  # over 2 MiB
        ("payload", "x.jpg", jpeg(1), 422),  # a part that is not an evidence file
    ],
)
def test_bad_uploads_are_refused_and_store_nothing(
    api: Api, part: str, name: str, data: bytes, status: int
) -> None:
    r = api.client.post(
        "/api/v1/detections",
        content=_multipart(part, name, data),
        headers={
            **api.auth("worker"),
            "Idempotency-Key": "k",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        },
    )
    assert r.status_code == status, r.text
    assert _count(api, "detections") == 0 and _count(api, "cases") == 0
    assert _blobs(api) == [] and not list((api.services.settings.evidence_dir).rglob("*.tmp"))


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(api: Api) -> None:
    r = api.client.post(
        "/api/v1/detections",
        content=b"\0" * (40 << 20),
        headers={
            **api.auth("worker"),
            "Idempotency-Key": "k",
            "Content-Type": "multipart/form-data; boundary=x",
        },
    )
    assert r.status_code == 413


def test_invalid_records_and_reused_keys_are_422(api: Api) -> None:
    bad = detection(1) | {"bbox": [5, 5, 1, 1]}
    assert api.ingest(bad).status_code == 422  # type: ignore[attr-defined]
    assert api.ingest(detection(1) | {"camera": "nope"}).status_code == 422  # type: ignore[attr-defined]
    assert api.ingest(detection(2), key="same").status_code == 201  # type: ignore[attr-defined]
    other = api.ingest(detection(3), key="same")
    assert other.status_code == 422 and "another body" in other.text  # type: ignore[attr-defined]


def _clip(tmp: Path) -> bytes:
    out = tmp / "clip.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x120:rate=10",
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            str(out),
        ],
        check=True,
    )
    return out.read_bytes()


def test_range_requests_on_a_clip(api: Api, tmp_path: Path) -> None:
    clip = _clip(tmp_path)
    r = api.ingest(detection(1), files={"clip": ("clip.mp4", clip, "video/mp4")})
    cid = r.json()["case_id"]  # type: ignore[attr-defined]
    ev = api.client.get(f"/api/v1/cases/{cid}", headers=api.auth("operator")).json()["evidence"][0]
    url, h = ev["url"], api.auth("operator")
    full = api.client.get(url, headers=h)
    assert (
        full.status_code == 200
        and full.headers["accept-ranges"] == "bytes"
        and full.headers["etag"]
    )
    assert full.content == clip and full.headers["content-type"] == "video/mp4"
    first = api.client.get(url, headers={**h, "Range": "bytes=0-99"})
    assert first.status_code == 206 and first.content == clip[:100]
    assert first.headers["content-range"] == f"bytes 0-99/{len(clip)}"
    mid = api.client.get(url, headers={**h, "Range": "bytes=1000-1999"})
    assert mid.status_code == 206 and mid.content == clip[1000:2000]
    tail = api.client.get(url, headers={**h, "Range": "bytes=-500"})
    assert tail.status_code == 206 and tail.content == clip[-500:]
    bad = api.client.get(url, headers={**h, "Range": f"bytes={len(clip) + 10}-"})
    assert bad.status_code == 416


def test_the_camera_ground_mapping_gives_area_and_position(
    database_url: str, tmp_path: Path
) -> None:
    import dataclasses

    from fastapi.testclient import TestClient

    from api.accounts import add_user
    from api.app import create_app
    from geofence.ground import GroundMap
    from models.enums import Role
    from tests.api.conftest import make_settings
    from tests.models.conftest import Clock

    # 1 px = 0.1 m on flat ground, near 旗山村
    px = [(0, 0), (640, 0), (640, 360), (0, 360)]
    lon0, lat0, m_lon, m_lat = 119.2, 26.03, 1 / 100_000, 1 / 111_000
    ground = [(lon0 + x * 0.1 * m_lon, lat0 - y * 0.1 * m_lat) for x, y in px]
    gm = GroundMap(px, ground, kind="lonlat")
    settings = dataclasses.replace(
        make_settings(database_url, tmp_path), ground={"cam1": (gm, (640, 360))}
    )
    app = create_app(settings, clock=Clock(), run_scheduler=False)
    sv = app.state.services
    with sv.session() as s, s.begin():
        key = add_user(
            s,
            name="w",
            role=Role.WORKER,
            unit="闽侯县",
            now=sv.clock(),
            passwords=sv.passwords,
            api_keys=sv.api_keys,
        ).secret
    with TestClient(app) as c:
        rec = detection(1, (100, 100, 200, 180))  # 10 m × 8 m
        r = c.post(
            "/api/v1/detections",
            files={"detection": (None, json.dumps(rec), "application/json")},
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "g1"},
        )
        assert r.status_code == 201, r.text
    with sv.session() as s:
        from models.tables import Case

        case = s.get(Case, r.json()["case_id"])
        assert case is not None
        assert case.area_m2 == pytest.approx(80.0, rel=0.03)
        assert case.lon == pytest.approx(lon0 + 15 * m_lon, abs=2e-6)
        assert case.lat == pytest.approx(lat0 - 14 * m_lat, abs=2e-6)

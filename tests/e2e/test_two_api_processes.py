"""Two `sitewatch api` processes on one PostgreSQL receive the same detection at the same
moment (a worker retrying through a load balancer): one detection, one case."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from sitewatch.cli import main
from tests.models.conftest import detection


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _config(tmp: Path, url: str, port: int) -> Path:
    cfg = tmp / f"site-{port}.yaml"
    cfg.write_text(
        "units:\n  district: 闽侯县\n  towns:\n    南屿镇: [旗山村]\n"
        "cameras:\n  - id: cam1\n    url: rtsp://127.0.0.1:8554/cam1\n"
        "    zones:\n      - id: yard\n        unit: 南屿镇/旗山村\n"
        "        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]\n"
        f"database:\n  url: {url}\napi:\n  host: 127.0.0.1\n  port: {port}\n"
        f"  secret_key_file: {tmp / 'secret'}\nstorage:\n  evidence_dir: {tmp / 'evidence'}\n",
        encoding="utf-8",
    )
    return cfg


@pytest.mark.slow
def test_the_same_detection_at_two_processes_makes_one_case(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several API processes share one PostgreSQL")
    ports = [_port(), _port()]
    cfgs = [_config(tmp_path, database_url, p) for p in ports]
    assert (
        main(
            ["users", "add", "w1", "--role", "worker", "--unit", "闽侯县", "--config", str(cfgs[0])]
        )
        == 0
    )
    key = capsys.readouterr().out.strip().splitlines()[-1]
    exe = Path(sys.executable).with_name("sitewatch")
    procs = [
        subprocess.Popen(
            [str(exe), "api", "--config", str(c)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=os.environ.copy(),
        )
        for c in cfgs
    ]
    try:
        for p in ports:
            deadline = time.monotonic() + 40
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"http://127.0.0.1:{p}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        rec = detection(1)
        barrier = threading.Barrier(8)
        codes: list[int] = []

        def post(port: int) -> None:
            with httpx.Client(timeout=30) as c:
                barrier.wait()
                r = c.post(
                    f"http://127.0.0.1:{port}/api/v1/detections",
                    files={"detection": (None, json.dumps(rec), "application/json")},
                    headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "same-key"},
                )
                codes.append(r.status_code)

        threads = [threading.Thread(target=post, args=(ports[i % 2],)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for p in procs:
            p.terminate()
            p.wait(20)
    assert sorted(codes) == [200] * 7 + [201], codes
    engine = sa.create_engine(database_url)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM cases")).scalar_one() == 1
        assert c.execute(sa.text("SELECT count(*) FROM detections")).scalar_one() == 1
    engine.dispose()

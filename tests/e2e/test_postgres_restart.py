"""PostgreSQL restarted under ingest load: the API answers 5xx while it is down (so workers
retry), then recovers by itself — no restart of the API — and every detection is applied
exactly once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from sitewatch.cli import main
from tests.e2e.test_two_api_processes import _config, _port
from tests.models.conftest import detection


def _restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("pg_ctlcluster") is None or os.geteuid() != 0,
    reason="restarting PostgreSQL needs pg_ctlcluster and root",
)
def test_api_recovers_from_a_postgres_restart(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL test")
    port = _port()
    cfg = _config(tmp_path, database_url, port)
    assert (
        main(["users", "add", "w1", "--role", "worker", "--unit", "闽侯县", "--config", str(cfg)])
        == 0
    )
    key = capsys.readouterr().out.strip().splitlines()[-1]
    exe = Path(sys.executable).with_name("sitewatch")
    proc = subprocess.Popen(
        [str(exe), "api", "--config", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    n, errors, done = 120, [], threading.Event()

    def load() -> None:  # a worker: every detection retried until the API takes it
        with httpx.Client(timeout=10) as c:
            for i in range(n):
                rec = detection(
                    i + 1,
                    (
                        5 + 40 * (i % 15),
                        5 + 30 * (i // 15),
                        35 + 40 * (i % 15),
                        30 + 30 * (i // 15),
                    ),
                )
                for _ in range(400):
                    try:
                        r = c.post(
                            f"{base}/api/v1/detections",
                            files={"detection": (None, json.dumps(rec), "application/json")},
                            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": f"k{i}"},
                        )
                        if r.status_code in (200, 201):
                            break
                        if r.status_code < 500:
                            errors.append(f"{i}: {r.status_code} {r.text[:100]}")
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.1)
                else:
                    errors.append(f"{i}: never accepted")
        done.set()

    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        worker = threading.Thread(target=load)
        worker.start()
        time.sleep(1.0)
        _restart_postgres()
        worker.join(180)
        assert done.is_set() and not errors, errors
        assert httpx.get(f"{base}/readyz", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(20)
    engine = sa.create_engine(database_url)
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM detections")).scalar_one() == n
        assert (
            c.execute(
                sa.text("SELECT count(DISTINCT idempotency_key) FROM detections")
            ).scalar_one()
            == n
        )
    engine.dispose()

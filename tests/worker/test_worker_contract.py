"""The worker's senders against the real API app (uvicorn on 127.0.0.1, a real database):
a detection with its evidence opens one case, a resend of the same row is a 200 repeat,
an invalid record is a dead letter, and a heartbeat is taken (204)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from sitewatch.worker.delivery import ApiSender, DeliveryLoop, HeartbeatLoop, check_answer
from sitewatch.worker.outbox import Outbox
from tests.api.conftest import Api, api, jpeg
from tests.models.conftest import detection
from tests.worker.conftest import wait_for

__all__ = ["api"]  # the API fixture of tests/api, used here


@pytest.fixture()
def live(api: Api) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = uvicorn.Config(
        api.client.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    assert wait_for(lambda: server.started, 10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _evidence(root: Path, n: int) -> tuple[dict[str, object], Path]:
    rec = detection(n)
    folder = root / "cam1" / f"20261201T1200{n:02d}-yard-{str(rec['id'])[-8:]}"
    folder.mkdir(parents=True)
    for i, name in enumerate(("before", "after", "snapshot", "frame", "reference")):
        (folder / f"{name}.jpg").write_bytes(jpeg(10 * n + i))
    rec.update(folder=f"cam1/{folder.name}", detected_at="2026-12-01T12:00:00.000+08:00")
    return rec, folder


def _count(api: Api, table: str) -> int:
    with api.services.engine.connect() as c:
        return int(c.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_worker_delivery_against_the_real_api(api: Api, live: str, tmp_path: Path) -> None:
    evidence = tmp_path / "worker-evidence"
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    good, folder = _evidence(evidence, 1)
    bad, bad_folder = _evidence(evidence, 2)
    bad["bbox"] = [50, 50, 10, 10]  # x2 < x1: the API refuses the record itself
    now = time.time()
    for rec, where in ((bad, bad_folder), (good, folder)):
        outbox.record(
            ["api"], key=str(rec["id"]), camera="cam1", payload=rec, folder=str(where), now=now
        )
    stop = threading.Event()
    with httpx.Client(timeout=30) as client:
        sender = ApiSender(client, live, api.worker_key, evidence)
        loop = DeliveryLoop(outbox, sender, stop, retry_initial=0.05, retry_max=0.2)
        thread = threading.Thread(target=loop.run, daemon=True)
        thread.start()
        try:
            assert wait_for(lambda: all(r.state != "pending" for r in outbox.rows()), 30)
        finally:
            stop.set()
            thread.join(10)
        rows = outbox.rows()
        assert [r.state for r in rows] == ["failed", "sent"]
        assert "422" in str(rows[0].last_error)
        assert (_count(api, "cases"), _count(api, "detections")) == (1, 1)
        assert _count(api, "evidence") == 5
        # the answer was lost, say: the same row sent again is a repeat, applied once
        sender.send(rows[1])
        assert sender.last_answer is not None and sender.last_answer.status_code == 200
        assert (_count(api, "cases"), _count(api, "detections")) == (1, 1)
        beats = HeartbeatLoop(
            client,
            live,
            api.worker_key,
            lambda: {
                "cam1": {"state": "online", "last_frame_at": None, "counters": {"samples": 3}}
            },
            30,
            stop,
        )
        beats.beat()
        assert (beats.sent, beats.failures) == (1, 0)
        answer = client.post(
            f"{live}/api/v1/cameras/cam1/heartbeat",
            json={"state": "online", "counters": {}},
            headers={"Authorization": "Bearer wrong"},
        )
        with pytest.raises(Exception, match="401"):
            check_answer(answer)
    outbox.close()

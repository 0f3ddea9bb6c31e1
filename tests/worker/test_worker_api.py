"""The worker over a real RTSP camera delivering to an API on 127.0.0.1 (a stand-in that
answers like the contract): evidence with its clip, heartbeats, and a kill -9 after a
confirmation that neither loses nor doubles the detection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sitewatch.config import load_site
from sitewatch.worker import build_worker
from sitewatch.worker.outbox import Outbox
from streams.simulator import Simulator
from tests.worker.conftest import API_KEY, ROOT, FakeApi, read_events, wait_for, write_site

KEYS = {"SITEWATCH_API_KEY": API_KEY}


@pytest.mark.slow
def test_worker_in_process_delivers_evidence_and_heartbeats(
    camera: tuple[Simulator, float, dict], tmp_path: Path, fake_api: FakeApi
) -> None:
    _, speed, site = camera
    fake_api.start()
    config = write_site(tmp_path, site, heartbeat="1s")  # stand-alone file, API given here
    worker = build_worker(load_site(config), speed=speed, api_url=fake_api.url, key=API_KEY)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    try:
        delivered = wait_for(lambda: fake_api.order, 90, 0.5)
        assert delivered, (
            f"no detection delivered: calls {[(c.path, c.status) for c in fake_api.calls]}, "
            f"counters {worker.heartbeat_bodies()}, outbox {worker.outbox.rows()}"
        )
    finally:
        stop.set()
        thread.join(15)
    assert not thread.is_alive()
    call = next(c for c in fake_api.detection_calls() if c.status == 201)
    assert call.record is not None and call.record["event"] == "confirmed"
    assert call.record["folder"].startswith("cam1/") and call.record["detected_at"]
    assert "evidence" not in call.record  # no worker paths travel
    assert {"before", "after", "snapshot", "frame", "reference", "clip"} <= set(call.files)
    assert call.files["clip"][0] == "clip.mp4" and call.files["clip"][1][4:8] == b"ftyp"
    beats = [c for c in fake_api.calls if c.path == "heartbeat/cam1"]
    assert len(beats) >= 3
    last = beats[-1].record
    assert last is not None and last["state"] in {"online", "away"}
    assert last["counters"]["samples"] > 10 and last["counters"]["detections"] >= 1
    assert set(last["counters"]) >= {"samples", "reconnects", "candidates", "detections", "dropped"}
    rows = Outbox(tmp_path / "outbox.sqlite3").rows("api")
    assert rows and rows[0].state == "sent"


def _start(config: Path, speed: float, events: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "sitewatch", "worker", "--config", str(config)]
    cmd += ["--events-out", str(events), "--speed", str(speed)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **KEYS}
    return subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.DEVNULL, text=True, env=env)


@pytest.mark.slow
def test_kill_9_after_a_confirmation_with_the_api_down(
    camera: tuple[Simulator, float, dict], tmp_path: Path, fake_api: FakeApi
) -> None:
    _, speed, site = camera
    config = write_site(tmp_path, site, api_url=fake_api.url, retry_max="1s")
    events = tmp_path / "events.jsonl"
    proc = _start(config, speed, events)
    try:
        confirmed = lambda: [e for e in read_events(events) if e["event"] == "confirmed"]  # noqa: E731
        assert wait_for(confirmed, 70, 0.5), "no confirmation"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    first = confirmed()[0]
    refs = tmp_path / "refs" / "cam1"
    assert refs.is_dir() and any(refs.iterdir()), "references not saved with the confirmation"
    box = Outbox(tmp_path / "outbox.sqlite3")
    assert [(r.key, r.state) for r in box.rows("api")][:1] == [(first["id"], "pending")]
    box.close()
    fake_api.start()
    proc = _start(config, speed, events)
    try:
        assert wait_for(lambda: first["id"] in fake_api.order, 40, 0.5)
        time.sleep(1.0)
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    calls = [c for c in fake_api.detection_calls() if c.key == first["id"]]
    assert [c.status for c in calls] == [201]
    assert fake_api.order.count(first["id"]) == 1
    assert json.loads(json.dumps(calls[0].record))["id"] == first["id"]

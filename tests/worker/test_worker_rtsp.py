"""A real worker over a real RTSP camera: stand-alone ``--events-out``, metrics, clean SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sitewatch.cli import main
from streams.simulator import Simulator, free_port
from tests.worker.conftest import ROOT, read_events, write_site


@pytest.mark.slow
def test_worker_finds_the_structure_and_stops_cleanly(
    camera: tuple[Simulator, float, dict], tmp_path: Path
) -> None:
    _, speed, site = camera
    port = free_port()
    config = write_site(tmp_path, site, metrics_port=port)
    events = tmp_path / "events.jsonl"
    cmd = [sys.executable, "-m", "sitewatch", "worker", "--config", str(config)]
    cmd += ["--events-out", str(events), "--speed", str(speed)]
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if any(e["event"] == "confirmed" for e in read_events(events)):
                break
            time.sleep(0.5)
        found = read_events(events)
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        proc.send_signal(signal.SIGTERM)
        started = time.monotonic()
        _, err = proc.communicate(timeout=15)
        stop_s = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert stop_s < 6, f"took {stop_s:.1f} s to stop"
    confirmed = [e for e in found if e["event"] == "confirmed"]
    assert len(confirmed) == 1, found
    event = confirmed[0]
    assert event["camera"] == "cam1" and event["zone"] == "yard"
    assert event["detected_at"][-6] in "+-"  # ISO-8601 with its offset
    folder = Path(event["evidence"])
    assert folder.parent == tmp_path / "evidence" / "cam1"
    assert {"detection.json", "before.jpg", "after.jpg", "snapshot.jpg"} <= {
        p.name for p in folder.iterdir()
    }
    refs = tmp_path / "refs" / "cam1"
    assert refs.is_dir() and any(refs.iterdir()), "references not saved on SIGTERM"
    assert 'sitewatch_camera_state{camera="cam1",state="online"} 1.0' in metrics
    samples = [
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith('sitewatch_camera_samples_total{camera="cam1"}')
    ]
    assert samples and samples[0] >= 10
    assert 'sitewatch_camera_detections_total{camera="cam1",event="confirmed"} 1.0' in metrics
    assert "worker stopped" in err


def test_worker_command_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = {
        "cameras": [
            {
                "id": "cam1",
                "url": "rtsp://127.0.0.1:9/none",
                "zones": [{"id": "z", "unit": "u", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
            }
        ]
    }
    config = write_site(tmp_path, site)
    assert main(["worker", "--config", str(config)]) == 2
    assert "nowhere to send events" in capsys.readouterr().err
    out = ["--events-out", str(tmp_path / "e.jsonl")]
    assert main(["worker", "--config", str(config), "--camera", "nope", *out]) == 2
    assert "nope" in capsys.readouterr().err
    config = write_site(tmp_path, site, api_url="http://127.0.0.1:9")
    env_key = os.environ.pop("SITEWATCH_API_KEY", None)
    try:
        assert main(["worker", "--config", str(config)]) == 2
    finally:
        if env_key is not None:
            os.environ["SITEWATCH_API_KEY"] = env_key
    assert "no API key" in capsys.readouterr().err


def test_a_flapping_camera_keeps_the_worker_running(tmp_path: Path) -> None:
    from sitewatch.config import load_site
    from sitewatch.worker import build_worker
    from streams.simulator import unavailable_reason
    from streams.testvideo import make_test_video
    from tests.worker.conftest import wait_for

    if unavailable_reason() is not None:
        pytest.skip(str(unavailable_reason()))
    video = make_test_video(tmp_path / "v.mp4", codec="h264", seconds=4)
    with Simulator([video], free_port()) as sim:
        cam = {
            "id": "cam1",
            "url": sim.urls[0],
            "sample_interval": "0.5s",
            "reconnect_min": "0.1s",
            "reconnect_max": "0.5s",
            "read_timeout": "1s",
            "zones": [{"id": "z", "unit": "u", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
        }
        config = write_site(tmp_path, {"cameras": [cam]}, metrics_port=0)
        worker = build_worker(load_site(config), events_out=tmp_path / "events.jsonl")
        runner = worker.cameras["cam1"]
        worker.start()
        try:
            for _ in range(3):
                seen = runner.samples
                assert wait_for(lambda seen=seen: runner.samples > seen + 2, 20)
                sim.restart()  # the camera reboots: connection lost, back a moment later
            seen = runner.samples
            assert wait_for(lambda: runner.samples > seen + 2, 20)
            worker.refresh()
            body = worker.heartbeat_bodies()["cam1"]
            assert body["state"] == "online"
            assert body["counters"]["reconnects"] >= 3
            assert body["last_frame_at"] is not None
            get = worker.metrics.registry.get_sample_value
            assert get("sitewatch_camera_reconnects", {"camera": "cam1"}) >= 3
            sim.pause()  # a hung camera at the moment of the stop: it must not hold it up
            time.sleep(0.5)
        finally:
            started = time.monotonic()
            worker.stop()
            stop_s = time.monotonic() - started
            sim.resume()
        assert stop_s < 6, f"took {stop_s:.1f} s to stop"
    assert (tmp_path / "refs" / "cam1").is_dir()

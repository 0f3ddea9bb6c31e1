"""kill -9 while a candidate is pending (warm-up done, nothing confirmed yet): the restarted
worker restores the references and the candidate from ``storage.reference_dir``, does not
warm up again, and confirms the structure once, in time.

The camera is the 'demolished' scene over RTSP. Every new client of the simulator starts
at the file's first frame, so the restarted worker reads a second mount that serves the
same scene from the moment the shed stands finished: what the camera shows after the
worker came back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import httpx
import pytest

from streams.clock import parse_duration
from streams.simulator import Simulator, free_port, unavailable_reason
from synth.scene import write_video
from synth.suite import get_scenario
from tests.worker.conftest import ROOT, read_events, wait_for, write_site

RESUME_AT = 14.0  # video seconds: the shed is finished (built 9–13.5 s, demolished at 22.5 s)


def _tail(src: Path, dst: Path, start: float) -> Path:
    """``src`` from ``start`` seconds on, re-encoded (H.264, a keyframe every 5 frames)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        stream = inp.streams.video[0]
        enc = out.add_stream("libx264", rate=stream.average_rate or Fraction(10))
        assert isinstance(enc, av.VideoStream)
        enc.width, enc.height, enc.pix_fmt = stream.width, stream.height, "yuv420p"
        enc.options = {"preset": "veryfast", "x264-params": "keyint=5:min-keyint=5:scenecut=0"}
        for frame in inp.decode(stream):
            if frame.time is not None and frame.time >= start - 1e-6:
                img = frame.to_ndarray(format="bgr24")
                out.mux(enc.encode(av.VideoFrame.from_ndarray(img, format="bgr24")))
        out.mux(enc.encode(None))
    return dst


@pytest.fixture(scope="module")
def cameras(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Simulator, float, dict]]:
    """The scene from its start (``cam0``) and from ``RESUME_AT`` on (``cam1``)."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("restart")
    scenario = get_scenario("demolished")
    video = folder / "demolished.mp4"
    write_video(scenario, str(video))
    later = _tail(video, folder / "later.mp4", RESUME_AT)
    with Simulator([video, later], free_port()) as sim:
        site = scenario.site_config(sim.urls[0])
        site["cameras"][0]["sample_interval"] = "5m"  # scene time: 0.5 s of video
        yield sim, scenario.speed, site


def _start(config: Path, speed: float, events: Path) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "sitewatch", "worker", "--config", str(config)]
    cmd += ["--events-out", str(events), "--speed", str(speed)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.DEVNULL, text=True, env=env)


def _metric(port: int, name: str) -> float:
    """``name{camera="cam1"}`` from the worker's /metrics (0 when absent or unreachable)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except httpx.HTTPError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(f'{name}{{camera="cam1"}}'):
            return float(line.split()[-1])
    return 0.0


def _confirmed(events: Path) -> list[dict]:
    return [e for e in read_events(events) if e["event"] == "confirmed"]


@pytest.mark.slow
def test_kill_9_with_a_candidate_pending_resumes_without_a_new_warm_up(
    cameras: tuple[Simulator, float, dict], tmp_path: Path
) -> None:
    sim, speed, site = cameras
    port = free_port()
    config = write_site(tmp_path, site, metrics_port=port)
    events = tmp_path / "events.jsonl"
    refs = tmp_path / "refs" / "cam1"
    proc = _start(config, speed, events)
    try:
        pending = lambda: _metric(port, "sitewatch_camera_candidates") >= 1  # noqa: E731
        assert wait_for(pending, 60, 0.2), "no candidate"
        warmup = _metric(port, "sitewatch_camera_warmup_samples_total")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert warmup == 10  # detector.warmup_samples: the first run learnt its reference
    assert not _confirmed(events), "confirmed before the kill: the test came too late"
    saved = json.loads((refs / "tracks.json").read_text(encoding="utf-8"))["tracks"]
    assert saved and (refs / "day.npz").is_file(), "candidate or reference not saved at once"
    killed_at = json.loads((refs / "stream.json").read_text(encoding="utf-8"))["t"]
    assert killed_at > 0

    site["cameras"][0]["url"] = sim.urls[1]  # the camera, as it looks now
    config = write_site(tmp_path, site, metrics_port=port)
    proc = _start(config, speed, events)
    try:
        assert wait_for(lambda: _confirmed(events), 40, 0.25), "not confirmed after the restart"
        warmup = _metric(port, "sitewatch_camera_warmup_samples_total")
        analysed = _metric(port, "sitewatch_camera_analysed_total")
        proc.send_signal(signal.SIGTERM)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert analysed >= 1 and warmup == 0, f"warmed up again ({warmup} of {analysed} samples)"
    confirmed = _confirmed(events)
    assert len(confirmed) == 1, confirmed  # no duplicate: one structure, one event
    event = confirmed[0]
    assert event["zone"] == "yard"
    # the candidate carried over: first seen before the kill, confirmed on its own clock
    # (stream time continues from the saved state), at most confirm_after after the restart
    assert event["first_seen_s"] <= killed_at < event["confirmed_s"]
    confirm_after = parse_duration(site["detector"]["confirm_after"])
    assert event["confirmed_s"] - killed_at <= confirm_after + 8 * 300.0  # 8 samples

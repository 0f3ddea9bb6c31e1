"""``sitewatch snapshot`` and ``sitewatch clip`` against the simulator and against files."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from sitewatch.cli import main
from streams import StreamSettings, open_source
from streams.simulator import Simulator, free_port

from .helpers import decode_errors, probe


@pytest.mark.parametrize("cam", [0, 1])
def test_snapshot_of_a_camera(cameras: Simulator, cam: int, tmp_path: Path) -> None:
    out = tmp_path / "snap.jpg"
    assert main(["snapshot", cameras.urls[cam], "-o", str(out), "--timeout", "20"]) == 0
    image = cv2.imread(str(out))
    assert image is not None and image.shape == (240, 320, 3) and image.std() > 10


@pytest.mark.parametrize(("cam", "codec"), [(0, "h264"), (1, "hevc")])
def test_clip_of_a_camera_copies_the_codec(
    cameras: Simulator, cam: int, codec: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "clip.mp4"
    args = ["clip", cameras.urls[cam], "--seconds", "2", "-o", str(out), "--timeout", "20"]
    assert main(args) == 0
    assert "no re-encode" in capsys.readouterr().out
    info = probe(out)
    assert info["codec_name"] == codec
    assert abs(float(str(info["duration"])) - 2.0) <= 1.0  # within one GOP (1 s) of N
    assert decode_errors(out) == ""


def test_clip_of_a_file(h264_video: Path, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    assert main(["clip", str(h264_video), "--seconds", "3", "-o", str(out)]) == 0
    info = probe(out)
    assert (info["codec_name"], info["nb_frames"]) == ("h264", "75")


def test_snapshot_of_a_dead_camera_fails_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    url = f"rtsp://127.0.0.1:{port}/cam0"
    started = time.monotonic()
    assert main(["snapshot", url, "-o", str(tmp_path / "x.jpg"), "--timeout", "30s"]) == 1
    assert time.monotonic() - started < 3  # refused: at once, not after the whole timeout
    err = capsys.readouterr().err
    assert err == f"sitewatch snapshot: cannot connect to 127.0.0.1:{port}: connection refused\n"
    assert not (tmp_path / "x.jpg").exists()


def test_clip_rejects_a_bad_length(h264_video: Path, tmp_path: Path) -> None:
    assert main(["clip", str(h264_video), "--seconds", "0", "-o", str(tmp_path / "c.mp4")]) == 2


def test_simulate_prints_urls_that_play_and_stops_cleanly(
    simulator_ok: None, h264_video: Path, h265_video: Path
) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "sitewatch", "simulate", str(h264_video), str(h265_video)]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().split("\t") for _ in range(2)]
        assert [line[0] for line in lines] == [
            f"rtsp://127.0.0.1:{port}/cam0",
            f"rtsp://127.0.0.1:{port}/cam1",
        ]
        with open_source(lines[1][0], StreamSettings(open_timeout=5)) as src:
            frame = next(src.frames())
        assert frame.image.shape == (240, 320, 3)
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
    assert rc == 0
    with socket.socket() as s:  # the GStreamer server went with it
        assert s.connect_ex(("127.0.0.1", port)) != 0

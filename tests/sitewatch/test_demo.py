"""The README's main command, as a user runs it: a simulated RTSP camera, `sitewatch run`,
and a case opened from the structure the camera sees."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("gst-launch-1.0") is None, reason="GStreamer is not installed")
def test_demo_opens_a_case(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DEMO_SERVE": "0",
        "DEMO_OUT": str(tmp_path / "demo"),
        "DEMO_PORT": str(port),
    }
    run = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    m = re.search(rf"^case opened: (http://127\.0\.0\.1:{port}/cases/\d+)$", run.stdout, re.M)
    assert m, run.stdout[-2000:]
    assert "first admin: admin / " in run.stdout
    evidence = list((tmp_path / "demo" / "evidence" / "blobs").rglob("*"))
    assert any(p.is_file() for p in evidence), "the case's evidence was stored by content hash"

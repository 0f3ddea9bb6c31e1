"""Camera simulator: looping video files served as RTSP cameras on loopback.

    with Simulator([Path("a.mp4"), Path("b.mp4")], port=free_port()) as sim:
        sim.urls  # ["rtsp://127.0.0.1:PORT/cam0", "rtsp://127.0.0.1:PORT/cam1"]

The server is GStreamer's RTSP server, run by ``/usr/bin/python3`` (the only Python with
``python3-gi``) as a subprocess (``streams/rtsp_server.py``). H.264 and H.265 files are
served as they are; other codecs are transcoded to H.264 once, into a temporary folder.
Tests use :meth:`Simulator.kill`, :meth:`restart`, :meth:`pause` and :meth:`resume` to
play a dead, rebooted or hung camera.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path

import av

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).with_name("rtsp_server.py")
SERVED_CODECS = ("h264", "hevc")
_MOUNT_NAME = re.compile(r"^[\w.-]+$")


class SimulatorError(RuntimeError):
    """The simulator could not start (missing GStreamer, bad video, port in use)."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (for tests running side by side)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@functools.cache
def unavailable_reason() -> str | None:
    """Why the simulator cannot run here, or None when it can."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found (the simulator needs Debian's python3-gi)"
    check = (
        "import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0');"
        "from gi.repository import Gst, GstRtspServer"
    )
    done = subprocess.run(
        [SYSTEM_PYTHON, "-I", "-c", check], capture_output=True, text=True, timeout=30
    )
    if done.returncode != 0:
        return (
            "GStreamer RTSP server missing (apt install python3-gi gir1.2-gst-rtsp-server-1.0 "
            f"gstreamer1.0-plugins-good gstreamer1.0-plugins-bad): {done.stderr.strip()[-200:]}"
        )
    return None


def probe_codec(path: Path) -> str:
    """The codec name of the first video stream of ``path`` (``h264``, ``hevc``, …)."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise SimulatorError(f"{path} has no video stream")
            return str(container.streams.video[0].codec_context.name)
    except av.FFmpegError as exc:
        raise SimulatorError(f"cannot read video {path}: {exc}") from exc


def transcode_h264(src: Path, dst: Path, *, gop_seconds: float = 2.0) -> Path:
    """Re-encode ``src`` as H.264 (no B-frames, a keyframe every ``gop_seconds``) into ``dst``."""
    cmd = [
        "ffmpeg", "-v", "error", "-y", "-i", str(src), "-an", "-c:v", "libx264",
        "-preset", "veryfast", "-bf", "0", "-pix_fmt", "yuv420p",
        "-force_key_frames", f"expr:gte(t,n_forced*{gop_seconds})", str(dst),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SimulatorError(f"ffmpeg could not transcode {src}: {done.stderr.strip()[-300:]}")
    return dst


class Simulator:
    """Serves ``videos`` as ``rtsp://HOST:PORT/cam0``, ``/cam1``… (or ``names``), looping.

    ``port=None`` picks a free port. Every client of a mount gets its own pipeline, which
    starts at the first frame of the file (a keyframe) and loops forever.
    """

    def __init__(
        self,
        videos: Sequence[Path | str],
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        names: Sequence[str] | None = None,
        ready_timeout: float = 60.0,
    ) -> None:
        if not videos:
            raise ValueError("videos must name at least one video file, got none")
        if port is None:
            port = free_port(host)
        if not 1 <= port <= 65535:
            raise ValueError(f"port must be in 1..65535, got {port!r}")
        if names is not None and len(names) != len(videos):
            raise ValueError(
                f"names must have one name per video ({len(videos)}), got {len(names)}"
            )
        self.videos = [Path(v) for v in videos]
        for v in self.videos:
            if not v.is_file():
                raise ValueError(f"videos: file not found: {v}")
        self.port = port
        self.host = host
        self.names = list(names) if names is not None else [f"cam{i}" for i in range(len(videos))]
        for name in self.names:
            if not _MOUNT_NAME.match(name):
                raise ValueError(f"names: {name!r} must be letters, digits, '_', '.' or '-'")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"names must be unique, got {self.names}")
        self.ready_timeout = ready_timeout
        self._proc: subprocess.Popen[str] | None = None
        self._workdir: Path | None = None
        self._mounts: list[str] | None = None
        self._log: list[str] = []

    @property
    def urls(self) -> list[str]:
        return [f"rtsp://{self.host}:{self.port}/{name}" for name in self.names]

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> Simulator:
        if self._proc is not None and self._proc.poll() is None:
            return self
        reason = unavailable_reason()
        if reason is not None:
            raise SimulatorError(reason)
        if self._mounts is None:
            self._mounts = self._prepare()
        cmd = [SYSTEM_PYTHON, "-I", str(SERVER_SCRIPT), "--port", str(self.port)]
        cmd += ["--host", self.host]
        for mount in self._mounts:
            cmd += ["--mount", mount]
        self._proc = subprocess.Popen(  # the server exits when its stdin closes (we died)
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
        )
        self._wait_ready(self._proc)
        return self

    def _prepare(self) -> list[str]:
        mounts = []
        for name, video in zip(self.names, self.videos, strict=True):
            codec = probe_codec(video)
            path = video.resolve()
            if codec not in SERVED_CODECS:
                if self._workdir is None:
                    self._workdir = Path(tempfile.mkdtemp(prefix="sitewatch-sim-"))
                path = transcode_h264(video, self._workdir / f"{name}.mp4")
                codec = "h264"
            mounts.append(f"{name}={codec}:{path}")
        return mounts

    def _wait_ready(self, proc: subprocess.Popen[str]) -> None:
        ready = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                self._log.append(line.rstrip())
                if line.startswith("READY"):
                    ready.set()
            ready.set()  # the process ended

        threading.Thread(target=read, name=f"simulator-{self.port}", daemon=True).start()
        if not ready.wait(self.ready_timeout) or proc.poll() is not None:
            self._terminate(proc)
            log = "\n".join(self._log[-10:])
            raise SimulatorError(f"RTSP simulator on port {self.port} did not start:\n{log}")

    def stop(self) -> None:
        """Stop the server and remove transcoded files."""
        if self._proc is not None:
            self._terminate(self._proc)
            self._proc = None
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
            self._mounts = None

    def kill(self) -> None:
        """Kill the server at once (a camera that lost power); ``start()`` brings it back."""
        if self._proc is not None:
            self.resume()
            self._proc.kill()
            self._proc.wait(timeout=10)
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def pause(self) -> None:
        """SIGSTOP the server: connections stay open and go silent (a hung camera)."""
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self._proc is not None:
            os.kill(self._proc.pid, signal.SIGCONT)

    @staticmethod
    def _terminate(proc: subprocess.Popen[str]) -> None:
        if proc.stdin is not None:
            proc.stdin.close()
        if proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGCONT)
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""Small helpers shared by the stream tests (ffprobe checks, background readers)."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from streams import SampledFrame, Source


def probe(path: Path) -> dict[str, object]:
    """ffprobe's view of the first video stream: codec_name, duration, nb_frames…"""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
         "stream=codec_name,duration,nb_frames,width,height", "-of", "json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    streams = json.loads(out)["streams"]
    assert streams, f"{path} has no video stream"
    return dict(streams[0])


def decode_errors(path: Path) -> str:
    """What ffmpeg complains about when decoding every frame of ``path`` ('' when clean)."""
    done = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stderr.strip() + ("" if done.returncode == 0 else f" (exit {done.returncode})")


class Reader:
    """Consumes ``source.frames()`` in a thread; the test waits for conditions on what came."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.frames: list[SampledFrame] = []
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for frame in self.source.frames(self.stop):
                self.frames.append(frame)
        except BaseException as exc:  # surfaced by wait_for
            self.error = exc

    def wait_for(self, what: Callable[[], bool], limit: float, message: str) -> None:
        """Poll ``what`` until true; fail with ``message`` and the status after ``limit`` s."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            if self.error is not None:
                raise self.error
            if what():
                return
            time.sleep(0.05)
        raise AssertionError(f"{message} (status: {self.source.status})")

    def close(self) -> None:
        self.stop.set()
        self._thread.join(timeout=30)
        self.source.close()

"""Small test videos made at run time with ffmpeg (for tests, benchmarks and demos)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Literal

_ENCODERS = {"h264": "libx264", "hevc": "libx265"}


def make_test_video(
    path: str | Path,
    *,
    codec: Literal["h264", "hevc"] = "h264",
    seconds: float = 4.0,
    size: tuple[int, int] = (320, 240),
    fps: int = 25,
    gop: int | None = None,
    bitrate: str | None = None,
    bframes: int = 0,
) -> Path:
    """A moving test pattern (``testsrc2``) with a keyframe every ``gop`` frames (default 1 s).

    No B-frames unless ``bframes`` (most cameras have none). ``path``'s suffix picks the
    container (.mp4, .mkv, .ts).
    """
    if codec not in _ENCODERS:
        raise ValueError(f"codec must be one of {sorted(_ENCODERS)}, got {codec!r}")
    if not 0 < seconds <= 3600:
        raise ValueError(f"seconds must be in (0, 3600], got {seconds!r}")
    if not 1 <= fps <= 120:
        raise ValueError(f"fps must be in 1..120, got {fps!r}")
    gop = gop or fps
    if gop < 1:
        raise ValueError(f"gop must be >= 1 frame, got {gop!r}")
    if not 0 <= bframes <= 16:
        raise ValueError(f"bframes must be in 0..16, got {bframes!r}")
    path = Path(path)
    w, h = size
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi"]
    cmd += ["-i", f"testsrc2=size={w}x{h}:rate={fps}", "-t", f"{seconds:g}"]
    cmd += ["-c:v", _ENCODERS[codec], "-pix_fmt", "yuv420p", "-preset", "veryfast"]
    if codec == "h264":
        cmd += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-bf", str(bframes)]
    else:
        x265 = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:log-level=error"
        cmd += ["-x265-params", x265]
    if bitrate:
        cmd += ["-b:v", bitrate]
    if codec == "hevc" and path.suffix.lower() in {".mp4", ".mov"}:
        cmd += ["-tag:v", "hvc1"]
    subprocess.run([*cmd, str(path)], check=True, capture_output=True)
    return path

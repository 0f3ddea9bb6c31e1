"""What a source hands out: sampled frames, its status, and its errors."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from streams.picture import Picture


class SourceError(Exception):
    """A source that cannot be read at all (missing file, no video stream, bad URL)."""


@dataclass(frozen=True)
class SampledFrame:
    """One decoded frame, taken every ``sample_interval`` of stream time."""

    picture: Picture
    """The decoded picture, converted on demand (``picture.scaled(w, h)``: small BGR
    straight from the decoder's YUV; ``picture.bgr()``: full size)."""
    pts: float
    """Seconds of stream time since the source's first packet (continues across reconnects)."""
    wall: float
    """Clock time when the frame's packet was read."""
    keyframe: bool
    """True when the frame is a keyframe (decoded alone, without its GOP)."""

    @property
    def image(self) -> np.ndarray:
        """The full-size BGR uint8 image, H×W×3 (converted at the first use, then kept)."""
        return self.picture.bgr()


class StreamState(StrEnum):
    ONLINE = "online"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"


@dataclass(frozen=True)
class StreamStatus:
    """A snapshot of a source's health; ``since`` is the clock time the state began."""

    state: StreamState
    since: float
    packets: int = 0
    """Compressed video packets read (corrupt ones included)."""
    frames: int = 0
    """Frames decoded and handed out."""
    corrupt: int = 0
    """Packets skipped because they were flagged corrupt or failed to decode."""
    reconnects: int = 0
    """Connections re-established after a loss."""
    disconnects: int = 0
    """Connections lost (end of stream, read error or hung server)."""
    failed_attempts: int = 0
    """Connection attempts that failed (refused, timed out, bad answer)."""
    last_packet_at: float | None = None
    """Clock time of the latest packet."""
    last_error: str | None = None
    """The latest error, as text."""

"""Camera sources (RTSP, file), reconnect, keyframe sampling, packet ring buffer, clips.

>>> from streams import open_source, StreamSettings
>>> with open_source("rtsp://127.0.0.1:8554/cam0", StreamSettings(sample_interval=10)) as src:
...     for frame in src.frames():
...         ...  # frame.image (BGR), frame.pts (stream seconds), src.status, src.ring
"""

from streams.backoff import Backoff
from streams.clock import Clock, ManualClock, SystemClock
from streams.datatypes import SampledFrame, SourceError, StreamState, StreamStatus
from streams.ring import PacketRing, RingPacket
from streams.settings import StreamSettings
from streams.source import Source, open_source

__all__ = [
    "Backoff",
    "Clock",
    "ManualClock",
    "PacketRing",
    "RingPacket",
    "SampledFrame",
    "Source",
    "SourceError",
    "StreamSettings",
    "StreamState",
    "StreamStatus",
    "SystemClock",
    "open_source",
]

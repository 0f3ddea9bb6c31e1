"""Camera sources (RTSP, file), reconnect, keyframe sampling, packet ring buffer, clips.

>>> from streams import open_source, StreamSettings
>>> with open_source("rtsp://127.0.0.1:8554/cam0", StreamSettings(sample_interval=10)) as src:
...     for frame in src.frames():
...         ...  # frame.image (BGR), frame.pts (stream seconds), src.status, src.ring

The names backed by PyAV (``open_source``, ``Source``, ``PacketRing``, ``RingPacket``) load
on first use, so that the config and the CLI's ``--help`` do not pay for importing av.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from streams.backoff import Backoff
from streams.clock import Clock, ManualClock, SystemClock
from streams.datatypes import SampledFrame, SourceError, StreamState, StreamStatus
from streams.settings import StreamSettings

if TYPE_CHECKING:
    from streams.ring import PacketRing, RingPacket
    from streams.source import Source, open_source

_LAZY = {
    "PacketRing": "streams.ring",
    "RingPacket": "streams.ring",
    "Source": "streams.source",
    "open_source": "streams.source",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'streams' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


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

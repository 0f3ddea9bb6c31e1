"""The last N seconds of compressed packets, cut at keyframes, and MP4 clips without re-encode."""

from __future__ import annotations

import io
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
from av.video.stream import VideoStream


class StreamTemplate:
    """Codec parameters of one connection, kept alive after its input container is closed.

    PyAV's ``add_stream_from_template`` reads the template stream's codec parameters, which
    die with the input container; they are copied into an in-memory output container that
    is never written, so clips can be cut after the camera disconnected.
    """

    def __init__(self, stream: VideoStream) -> None:
        self._park = av.open(io.BytesIO(), "w", format="mp4")
        self.stream: VideoStream = self._park.add_stream_from_template(stream, opaque=True)
        self.time_base: Fraction = stream.time_base or Fraction(1, 90000)
        self.codec: str = stream.codec_context.name
        self.width: int = stream.codec_context.width
        self.height: int = stream.codec_context.height


@dataclass(frozen=True, slots=True)
class RingPacket:
    """One compressed video packet with its times in seconds of stream time."""

    data: bytes
    pts: float
    dts: float
    keyframe: bool
    wall: float
    template: StreamTemplate


class PacketRing:
    """Keeps at least ``seconds`` of packets, dropping whole GOPs from the old end.

    The oldest packet is always a keyframe, so any clip cut from the ring decodes from its
    first frame. ``max_bytes`` bounds memory when a camera sends no keyframes at all.
    :meth:`hold` keeps more for a clip on its way (an event seen now, its clip cut a few
    seconds later), so ``seconds`` need only cover the part of a clip before its event.
    """

    def __init__(self, seconds: float, *, max_bytes: int = 64 * 1024 * 1024) -> None:
        if not seconds > 0:
            raise ValueError(f"seconds must be > 0, got {seconds!r}")
        if not max_bytes >= 1024:
            raise ValueError(f"max_bytes must be >= 1024, got {max_bytes!r}")
        self.seconds = float(seconds)
        self.max_bytes = int(max_bytes)
        self._gops: deque[list[RingPacket]] = deque()
        self._holds: list[tuple[float, float]] = []  # (keep from pts, until newest pts)
        self._bytes = 0
        self._lock = threading.Lock()
        self.dropped = 0
        """Packets refused (no keyframe yet) or dropped to stay under ``max_bytes``."""

    def push(self, packet: RingPacket) -> None:
        with self._lock:
            if packet.keyframe or (
                self._gops and self._gops[-1][-1].template is not packet.template
            ):
                if not packet.keyframe:  # a new connection must start at a keyframe
                    self.dropped += 1
                    return
                self._gops.append([])
            elif not self._gops:
                self.dropped += 1
                return
            self._gops[-1].append(packet)
            self._bytes += len(packet.data)
            self._trim(packet.pts)

    def hold(self, start_pts: float, until_pts: float) -> None:
        """Keep the packets from ``start_pts`` on (from the keyframe at or before it) until
        a packet at ``until_pts`` or later arrives, however long ``seconds`` is;
        ``max_bytes`` still bounds the ring."""
        if not until_pts >= start_pts:
            raise ValueError(f"until_pts must be >= start_pts ({start_pts!r}), got {until_pts!r}")
        with self._lock:
            self._holds.append((float(start_pts), float(until_pts)))

    def _trim(self, newest: float) -> None:
        keep = newest - self.seconds
        if self._holds:
            self._holds = [h for h in self._holds if h[1] > newest]
            keep = min([keep] + [start for start, _ in self._holds])
        while len(self._gops) >= 2 and self._gops[1][0].pts <= keep:
            self._drop_oldest()
        while self._bytes > self.max_bytes and self._gops:
            self._drop_oldest()

    def _drop_oldest(self) -> None:
        gop = self._gops.popleft()
        self._bytes -= sum(len(p.data) for p in gop)
        if not self._gops:  # the only GOP was too big: start again at the next keyframe
            self.dropped += len(gop)

    def clear(self) -> None:
        with self._lock:
            self._gops.clear()
            self._holds.clear()
            self._bytes = 0

    def snapshot(self) -> list[RingPacket]:
        """The packets held now, oldest first."""
        with self._lock:
            return [p for gop in self._gops for p in gop]

    def span(self) -> tuple[float, float] | None:
        """(oldest, newest) pts held, or None when empty."""
        with self._lock:
            if not self._gops:
                return None
            return self._gops[0][0].pts, self._gops[-1][-1].pts

    def __len__(self) -> int:
        with self._lock:
            return sum(len(g) for g in self._gops)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def export_clip(self, start_pts: float, end_pts: float, path: str | Path) -> Path:
        """Write the packets from the keyframe at or before ``start_pts`` to ``end_pts`` as MP4.

        No re-encode: the clip has the camera's codec. Raises ValueError when the ring holds
        nothing in that range.
        """
        if not end_pts >= start_pts:
            raise ValueError(f"end_pts must be >= start_pts ({start_pts!r}), got {end_pts!r}")
        chosen = select_range(self.snapshot(), start_pts, end_pts)
        if not chosen:
            held = self.span()
            what = f"{held[0]:.2f}–{held[1]:.2f} s" if held else "nothing"
            raise ValueError(
                f"no packets between {start_pts:.2f} and {end_pts:.2f} s (the ring holds {what})"
            )
        return write_clip(chosen, path)


def select_range(packets: Sequence[RingPacket], start: float, end: float) -> list[RingPacket]:
    """From the last keyframe at or before ``start`` (else the first after it) up to ``end``,
    within one connection."""
    if not packets or packets[-1].pts < start:
        return []
    first = None
    for i, p in enumerate(packets):
        if p.keyframe and (p.pts <= start or first is None):
            first = i
        if p.pts > start and first is not None:
            break
    if first is None or packets[first].pts > end:
        return []
    template = packets[first].template
    out: list[RingPacket] = []
    for p in packets[first:]:
        if p.template is not template or p.dts > end:
            break
        out.append(p)
    return out


def write_clip(packets: Sequence[RingPacket], path: str | Path) -> Path:
    """Mux ``packets`` (one connection, starting at a keyframe) into an MP4 without re-encode."""
    if not packets:
        raise ValueError("packets must not be empty")
    path = Path(path)
    template = packets[0].template
    tb = template.time_base
    base = min(packets[0].dts, packets[0].pts)
    out = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        stream = out.add_stream_from_template(template.stream, opaque=True)
        last_dts: int | None = None
        for p in packets:
            pkt = av.Packet(p.data)
            dts = round((p.dts - base) / tb)
            if last_dts is not None and dts <= last_dts:
                dts = last_dts + 1
            pkt.dts = dts
            pkt.pts = max(dts, round((p.pts - base) / tb))
            pkt.time_base = tb
            pkt.stream = stream
            pkt.is_keyframe = p.keyframe
            out.mux(pkt)
            last_dts = dts
    except BaseException:
        out.close()
        path.unlink(missing_ok=True)
        raise
    out.close()
    return path

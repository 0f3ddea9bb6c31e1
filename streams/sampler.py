"""Decode one frame per sample interval, touching as few packets as possible.

Normally only keyframes go to the decoder (``skip_frame = "NONKEY"``): the first keyframe
at or after each due time is decoded alone. When a camera's keyframes are further apart
than the interval, the GOP that contains a due time is decoded from its keyframe up to
the due frame (and no further), so the detector still gets a frame every interval.

A keyframe decoded alone from a source at least ``FAST_WIDTH`` pixels wide goes to a
second decoder that skips H.264/HEVC's deblocking filter (about a tenth of the decoding
time; nothing is predicted from these frames, so the skip cannot spread). The detector
analyses a picture a fifth of that width or less, where the filter changes 0.2 grey
levels on average; the full-size picture (evidence, models) is decoded again from the
packet with the filter (:meth:`streams.picture.Picture.bgr`), which happens only at an
event or a model's look.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import av
from av.video.stream import VideoStream

from streams.picture import Picture

_EPS = 1e-6
FAST_WIDTH = 1280  # sources this wide or wider: keyframes alone decoded without deblocking
_FAST_CODECS = frozenset({"h264", "hevc"})

Sample = tuple[Picture, float, bool]
"""(the decoded picture, pts in stream seconds, decoded from a keyframe alone)."""


class Schedule:
    """When the next sample is due (stream seconds); survives reconnects."""

    def __init__(self, interval: float) -> None:
        if not interval > 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval!r}")
        self.interval = float(interval)
        self.next_due = 0.0
        self.gop: float | None = None
        """The latest keyframe spacing seen, in seconds."""

    def due(self, pts: float) -> bool:
        return pts >= self.next_due - _EPS

    def taken(self, pts: float) -> None:
        while self.next_due <= pts + _EPS:
            self.next_due += self.interval

    @property
    def sparse_keyframes(self) -> bool:
        """Keyframes come less often than samples are due: decode inside GOPs."""
        return self.gop is not None and self.gop > self.interval + _EPS


class Sampler:
    """Feeds one connection's video packets to its decoder; returns the due frames.

    Each frame is handed over as the decoder gave it (a :class:`~streams.picture.Picture`
    around the YUV frame): the detector converts only what it needs, at the size it needs.
    """

    def __init__(
        self,
        stream: VideoStream,
        schedule: Schedule,
        on_corrupt: Callable[[str], None],
    ) -> None:
        self._cc = stream.codec_context
        self._cc.thread_count = 1  # no frame-thread delay; one core serves many cameras
        self._cc.skip_frame = "NONKEY"
        self._fast = _fast_decoder(self._cc)
        self._codec = (self._cc.name, self._cc.extradata)  # what a fresh decoder needs
        self._tb: Fraction = stream.time_base or Fraction(1, 90000)
        self._schedule = schedule
        self._on_corrupt = on_corrupt
        self._last_key: float | None = None
        self._in_gop = False  # decoding every frame of the current GOP up to the due time
        self._backlog: list[tuple[av.Packet, float]] | None = None  # the GOP, not decoded
        self._tick_offset = 0.0  # stream seconds minus packet ticks × time base

    def feed(self, packet: av.Packet, pts: float) -> list[Sample]:
        """Offer a packet (``pts`` in stream seconds); get the frames that fell due."""
        if packet.pts is not None:
            self._tick_offset = pts - float(packet.pts * self._tb)
        s = self._schedule
        out: list[Sample] = []
        if packet.is_keyframe:
            self._backlog = None
            if self._in_gop:
                out += self._end_gop(drain=True)
            if self._last_key is not None and pts > self._last_key:
                s.gop = pts - self._last_key
            self._last_key = pts
            if s.gop is None:  # spacing unknown: decode this GOP's frames only if one falls due
                self._backlog = [(packet, pts)]
                return out + (self._decode_keyframe(packet, pts) if s.due(pts) else [])
            if s.due(pts) and not self._due_inside_gop(pts, after=pts):
                return out + self._decode_keyframe(packet, pts)
            if not self._due_inside_gop(pts, after=None):
                return out
            self._start_gop()
        elif self._backlog is not None:
            return out + self._from_backlog(packet, pts)
        elif not self._in_gop:
            return out
        return out + self._decode_in_gop(packet, pts)

    def _from_backlog(self, packet: av.Packet, pts: float) -> list[Sample]:
        """In the first GOP (spacing unknown) keep the packets; when a frame falls due before
        the next keyframe, decode the GOP from its keyframe up to it."""
        assert self._backlog is not None
        self._backlog.append((packet, pts))
        if not self._schedule.due(pts):
            return []
        backlog, self._backlog = self._backlog, None
        self._cc.flush_buffers()
        self._start_gop()
        out: list[Sample] = []
        for held, held_pts in backlog:
            out += self._decode_in_gop(held, held_pts)
            if not self._in_gop:
                break
        return out

    def _due_inside_gop(self, key_pts: float, after: float | None) -> bool:
        """Is a sample due in the GOP starting at ``key_pts`` (once ``after`` is taken)?

        Unknown keyframe spacing counts as yes, so the first GOP teaches the spacing.
        """
        s = self._schedule
        due = s.next_due
        if after is not None:
            while due <= after + _EPS:
                due += s.interval
        if s.gop is None:
            return True
        return (key_pts >= due - _EPS) or (s.sparse_keyframes and key_pts + s.gop > due)

    def _decode_keyframe(self, packet: av.Packet, pts: float) -> list[Sample]:
        fast = self._decode_fast(packet)
        if fast:
            self._schedule.taken(pts)
            full = _Redecode(self._codec, bytes(packet), fast[0])
            return [(Picture(fast[0], full=full), pts, True)]
        try:
            frames = _decode_alone(self._cc, packet)
        except av.FFmpegError as exc:
            self._on_corrupt(f"keyframe at {pts:.2f} s failed to decode: {exc}")
            self._cc.flush_buffers()
            return []
        if not frames:
            self._on_corrupt(f"keyframe at {pts:.2f} s gave no picture")
            return []
        self._schedule.taken(pts)
        return [(Picture(frames[0]), pts, True)]

    def _decode_fast(self, packet: av.Packet) -> list[Any]:
        """The keyframe from the fast decoder (none without one). When it gives nothing
        (a corrupt packet; parameter sets that only the plain decoder saw), the plain
        decoder takes over, for good."""
        if self._fast is None:
            return []
        try:
            frames = _decode_alone(self._fast, packet)
        except av.FFmpegError:
            frames = []
        if not frames:
            self._fast = None
        return frames

    def _start_gop(self) -> None:
        self._in_gop = True
        self._cc.skip_frame = "DEFAULT"

    def _end_gop(self, *, drain: bool = False) -> list[Sample]:
        """Stop decoding this GOP; with ``drain``, first collect frames held for reordering."""
        out: list[Sample] = []
        if drain:
            try:
                out = self._pick(self._cc.decode(None), None)
            except av.FFmpegError:
                out = []
        self._in_gop = False
        self._cc.skip_frame = "NONKEY"
        self._cc.flush_buffers()
        return out

    def _decode_in_gop(self, packet: av.Packet, pts: float) -> list[Sample]:
        try:
            frames = self._cc.decode(packet)
        except av.FFmpegError as exc:
            self._on_corrupt(f"frame at {pts:.2f} s failed to decode: {exc}")
            self._end_gop()
            return []
        out = self._pick(frames, pts)
        if out and self._last_key is not None and not self._due_inside_gop(self._last_key, None):
            self._end_gop()
        return out

    def _pick(self, frames: list[av.VideoFrame], fallback_pts: float | None) -> list[Sample]:
        """The due frames among ``frames``, each taken off the schedule."""
        out: list[Sample] = []
        for frame in frames:
            if frame.pts is not None:
                fpts = self._tick_offset + float(frame.pts * self._tb)
            elif fallback_pts is not None:
                fpts = fallback_pts
            else:
                continue
            if self._schedule.due(fpts):
                self._schedule.taken(fpts)
                out.append((Picture(frame), fpts, bool(frame.key_frame)))
        return out


def _decode_alone(cc: Any, packet: av.Packet) -> list[Any]:
    """The frames of one packet decoded on its own (draining a decoder that holds them)."""
    frames: list[Any] = cc.decode(packet)
    if not frames:  # a decoder holding frames for reordering: drain it
        frames = cc.decode(None)
        cc.flush_buffers()
    return frames


def _fast_decoder(cc: Any) -> Any | None:
    """A decoder for keyframes alone that skips the deblocking filter (HD sources of a
    codec that has one), else None."""
    if cc.name not in _FAST_CODECS or (cc.width or 0) < FAST_WIDTH:
        return None
    fast = _same_codec((cc.name, cc.extradata))
    fast.options = {"skip_loop_filter": "all"}
    fast.skip_frame = "NONKEY"
    return fast


def _same_codec(codec: tuple[str, bytes | None]) -> Any:
    """A fresh one-thread decoder for ``codec`` (its name and extradata: SPS/PPS)."""
    name, extradata = codec
    fresh = av.CodecContext.create(name, "r")
    if extradata:
        fresh.extradata = extradata
    fresh.thread_count = 1
    return fresh


class _Redecode:
    """Decodes a keyframe's packet again, in full quality, in a decoder of its own (it may
    run on the analysing thread while the sampler's decoders go on); falls back to the fast
    frame when that fails."""

    __slots__ = ("_codec", "_data", "_fallback")

    def __init__(self, codec: tuple[str, bytes | None], data: bytes, fallback: Any) -> None:
        self._codec, self._data, self._fallback = codec, data, fallback

    def __call__(self) -> Any:
        try:
            frames = _decode_alone(_same_codec(self._codec), av.Packet(self._data))
        except (av.FFmpegError, ValueError):
            frames = []
        return frames[0] if frames else self._fallback

"""Decode one frame per sample interval, touching as few packets as possible.

Normally only keyframes go to the decoder (``skip_frame = "NONKEY"``): the first keyframe
at or after each due time is decoded alone. When a camera's keyframes are further apart
than the interval, the GOP that contains a due time is decoded from its keyframe up to
the due frame (and no further), so the detector still gets a frame every interval.
"""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import av
import numpy as np
from av.video.stream import VideoStream

_EPS = 1e-6

Sample = tuple[np.ndarray, float, bool]
"""(BGR image, pts in stream seconds, decoded from a keyframe alone)."""


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
    """Feeds one connection's video packets to its decoder; returns due frames as BGR arrays."""

    def __init__(
        self,
        stream: VideoStream,
        schedule: Schedule,
        on_corrupt: Callable[[str], None],
    ) -> None:
        self._cc = stream.codec_context
        self._cc.thread_count = 1  # no frame-thread delay; one core serves many cameras
        self._cc.skip_frame = "NONKEY"
        self._tb: Fraction = stream.time_base or Fraction(1, 90000)
        self._schedule = schedule
        self._on_corrupt = on_corrupt
        self._last_key: float | None = None
        self._in_gop = False  # decoding every frame of the current GOP up to the due time
        self._tick_offset = 0.0  # stream seconds minus packet ticks × time base

    def feed(self, packet: av.Packet, pts: float) -> list[Sample]:
        """Offer a packet (``pts`` in stream seconds); get the frames that fell due."""
        if packet.pts is not None:
            self._tick_offset = pts - float(packet.pts * self._tb)
        s = self._schedule
        out: list[Sample] = []
        if packet.is_keyframe:
            if self._in_gop:
                out += self._end_gop(drain=True)
            if self._last_key is not None and pts > self._last_key:
                s.gop = pts - self._last_key
            self._last_key = pts
            if s.due(pts) and not self._due_inside_gop(pts, after=pts):
                return out + self._decode_keyframe(packet, pts)
            if not self._due_inside_gop(pts, after=None):
                return out
            self._start_gop()
        elif not self._in_gop:
            return out
        return out + self._decode_in_gop(packet, pts)

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
        try:
            frames = self._cc.decode(packet)
            if not frames:  # a decoder holding frames for reordering: drain it
                frames = self._cc.decode(None)
                self._cc.flush_buffers()
        except av.FFmpegError as exc:
            self._on_corrupt(f"keyframe at {pts:.2f} s failed to decode: {exc}")
            self._cc.flush_buffers()
            return []
        if not frames:
            self._on_corrupt(f"keyframe at {pts:.2f} s gave no picture")
            return []
        self._schedule.taken(pts)
        return [(frames[0].to_ndarray(format="bgr24"), pts, True)]

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
                out.append((frame.to_ndarray(format="bgr24"), fpts, bool(frame.key_frame)))
        return out

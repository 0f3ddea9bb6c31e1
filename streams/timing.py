"""Stream time for packets (continuous across reconnects and loops) and real-time pacing."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction

import av

from streams.clock import Clock


class PacketTimer:
    """Maps packet timestamps to seconds since the source's first packet.

    Each connection (or each pass of a looping file) restarts the camera's timestamps;
    the new connection continues from the last one: after the gap in clock time for a
    live camera, one frame later for a file. Packets without timestamps (the first RTSP
    packets can have ``pts=None``) are placed one frame after the previous packet.
    """

    def __init__(self) -> None:
        self._tb = Fraction(1, 90000)
        self._tbf = 1 / 90000  # the time base as a float: Fraction arithmetic per packet is slow
        self._step = 0.04
        self._offset = 0.0
        self._base: int | None = None
        self._untimed = 0
        self._last_pts: float | None = None
        self._last_wall: float | None = None

    def new_session(self, time_base: Fraction, step: float, now: float, live: bool) -> None:
        if self._last_pts is not None:
            gap = step
            if live and self._last_wall is not None:
                gap = max(step, now - self._last_wall)
            self._offset = self._last_pts + gap
        self._tb = time_base
        self._tbf = float(time_base)
        self._step = step
        self._base = None
        self._untimed = 0

    def times(self, packet: av.Packet) -> tuple[float, float]:
        """(pts, dts) of ``packet`` in stream seconds."""
        ticks = packet.pts if packet.pts is not None else packet.dts
        if ticks is None:
            if self._base is None:
                pts = self._offset + self._untimed * self._step
                self._untimed += 1
            else:
                pts = (self._last_pts if self._last_pts is not None else self._offset) + self._step
            self._last_pts = pts if self._last_pts is None else max(self._last_pts, pts)
            return pts, pts
        if self._base is None:
            self._base = ticks - round(self._untimed * self._step / self._tb)
        pts = self._offset + (ticks - self._base) * self._tbf
        dts = pts
        packet_dts = packet.dts
        if packet_dts is not None:
            dts = self._offset + (packet_dts - self._base) * self._tbf
        self._last_pts = pts if self._last_pts is None else max(self._last_pts, pts)
        return pts, dts

    def seen(self, wall: float) -> None:
        self._last_wall = wall


class Pacer:
    """Holds packets back so a file plays at the speed it was recorded (a fake camera)."""

    def __init__(self, clock: Clock, *, max_lag: float = 5.0) -> None:
        self._clock = clock
        self._max_lag = max_lag
        self._origin: tuple[float, float] | None = None

    def wait_until(self, pts: float, sleep: Callable[[float], bool]) -> bool:
        """Sleep until ``pts`` is due; True if the sleep was interrupted by a stop."""
        now = self._clock.now()
        if self._origin is None:
            self._origin = (now, pts)
            return False
        wall0, pts0 = self._origin
        delay = (pts - pts0) - (now - wall0)
        if delay > 0:
            return sleep(delay)
        if delay < -self._max_lag:  # fell far behind: do not burst to catch up
            self._origin = (now, pts)
        return False

"""RTSP and file sources: demux every packet, sample frames, reconnect forever.

One loop per source (``Source.frames`` or ``Source.packets``) reads packets into the
ring buffer and hands out a decoded frame each sample interval. A live source never
gives up: the end of ``demux()`` (a killed server ends it silently), a read error, or a
hung server (PyAV raises after about twice the read timeout) is a disconnect, followed
by reconnect attempts with exponential backoff and jitter.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Generator, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from av.container import InputContainer

from streams.backoff import Backoff
from streams.clock import Clock, SystemClock
from streams.datatypes import SampledFrame, SourceError, StreamStatus
from streams.ring import PacketRing, RingPacket, StreamTemplate
from streams.sampler import Sampler, Schedule
from streams.settings import StreamSettings
from streams.status import StatusTracker
from streams.timing import Pacer, PacketTimer

_LIVE_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
_POLL = 0.25  # longest single wait, so close() and stop events are noticed promptly

Item = tuple[RingPacket, list[SampledFrame]]


def is_live(url: str) -> bool:
    return url.lower().startswith(_LIVE_SCHEMES)


class Source:
    """One camera or video file. Use ``frames()`` (or ``packets()``) from one thread."""

    def __init__(
        self,
        url: str,
        settings: StreamSettings,
        *,
        clock: Clock | None = None,
        realtime: bool = False,
        loop: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        if not url:
            raise ValueError("url must be an rtsp:// URL or a video file path, got ''")
        self.url = url
        self.settings = settings
        self.live = is_live(url)
        self.realtime = realtime
        self.loop = loop
        self._clock: Clock = clock or SystemClock()
        self.ring = PacketRing(settings.ring_seconds)
        self._status = StatusTracker(
            self._clock, settings.offline_after, settings.read_timeout if self.live else None
        )
        self._backoff = Backoff(settings.reconnect_min, settings.reconnect_max, rng=rng)
        self._schedule = Schedule(settings.sample_interval)
        self._closed = threading.Event()
        self._io = threading.Lock()
        self._container: InputContainer | None = None
        self._timer = PacketTimer()
        if not self.live and not Path(url.removeprefix("file:")).exists():
            raise SourceError(f"video file not found: {url}")

    @property
    def status(self) -> StreamStatus:
        return self._status.snapshot()

    def frames(self, stop: threading.Event | None = None) -> Iterator[SampledFrame]:
        """One decoded frame per ``sample_interval`` of stream time, until ``stop``/``close``."""
        for _, frames in self._run(stop, decode=True):
            yield from frames

    def packets(self, stop: threading.Event | None = None) -> Iterator[RingPacket]:
        """Every compressed video packet (also kept in ``ring``), until ``stop``/``close``.

        Nothing is decoded: use this to record or forward a camera, ``frames()`` to analyse it.
        """
        for packet, _ in self._run(stop, decode=False):
            yield packet

    def read(
        self, stop: threading.Event | None = None
    ) -> Iterator[tuple[RingPacket, list[SampledFrame]]]:
        """Both at once: each packet with the frames (usually none) that fell due at it."""
        yield from self._run(stop, decode=True)

    def close(self) -> None:
        """Stop the loop; the container is closed now if no read is in progress, else by it."""
        self._closed.set()
        if self._io.acquire(blocking=False):
            try:
                self._close_container()
            finally:
                self._io.release()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _stopped(self, stop: threading.Event | None) -> bool:
        return self._closed.is_set() or (stop is not None and stop.is_set())

    def _sleep(self, seconds: float, stop: threading.Event | None) -> bool:
        """Wait on the clock; True if stopped meanwhile."""
        left = seconds
        while left > 0:
            step = min(left, _POLL)
            if self._clock.sleep(step, stop) or self._stopped(stop):
                return True
            left -= step
        return self._stopped(stop)

    def _close_container(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    def _run(self, stop: threading.Event | None, *, decode: bool) -> Iterator[Item]:
        pacer = Pacer(self._clock) if self.realtime and not self.live else None
        try:
            while not self._stopped(stop):
                if not self._connect(stop):
                    return
                reason = yield from self._session(stop, pacer, decode)
                with self._io:
                    self._close_container()
                if self._stopped(stop):
                    return
                if not self.live and not self.loop:
                    self._status.finished(reason)
                    return
                self._status.lost(reason)
                if self.live and self._sleep(self._backoff.next_wait(), stop):
                    return
        finally:
            with self._io:
                self._close_container()

    def _connect(self, stop: threading.Event | None) -> bool:
        """Open the source; a live one retries with backoff until it works or is stopped."""
        while not self._stopped(stop):
            try:
                container = self._open()
            except (av.FFmpegError, OSError) as exc:
                if not self.live:
                    raise SourceError(f"cannot open {self.url}: {exc}") from exc
                self._status.failed(f"connect failed: {exc}")
                if self._sleep(self._backoff.next_wait(), stop):
                    return False
                continue
            if not container.streams.video:
                container.close()
                if not self.live:
                    raise SourceError(f"{self.url} has no video stream")
                self._status.failed("no video stream")
                if self._sleep(self._backoff.next_wait(), stop):
                    return False
                continue
            with self._io:
                self._container = container
            return True
        return False

    def _open(self) -> InputContainer:
        s = self.settings
        options: dict[str, str] = {}
        if self.url.lower().startswith(("rtsp://", "rtsps://")):
            options["rtsp_transport"] = s.transport
        # FFmpeg gives up on a silent stream after about twice the timeout it is given
        read = s.read_timeout / 2 if self.live else s.read_timeout
        c: Any = av.open(self.url, options=options, timeout=(s.open_timeout, read))
        return c

    def _session(
        self, stop: threading.Event | None, pacer: Pacer | None, decode: bool
    ) -> Generator[Item, None, str]:
        """Read one connection until it ends; return why it ended."""
        container = self._container
        assert container is not None
        stream = container.streams.video[0]
        template = StreamTemplate(stream)
        sampler = Sampler(stream, self._schedule, self._status.corrupt) if decode else None
        timer = self._timer
        tb = stream.time_base or Fraction(1, 90000)
        timer.new_session(tb, _frame_step(stream), self._clock.now(), self.live)
        demux = container.demux(stream)
        got_any = False
        try:
            while True:
                with self._io:  # close() from another thread waits for the packet in hand
                    if self._stopped(stop):
                        return "stopped"
                    packet = next(demux, None)
                    if packet is None:
                        return "end of stream"
                    if packet.size == 0:
                        continue
                    item = self._handle(packet, template, sampler, timer, pacer, stop)
                if item is None:
                    continue
                if not got_any:
                    got_any = True
                    self._backoff.reset()
                yield item
        except av.FFmpegError as exc:
            return f"read error: {exc}"

    def _handle(
        self,
        packet: av.Packet,
        template: StreamTemplate,
        sampler: Sampler | None,
        timer: PacketTimer,
        pacer: Pacer | None,
        stop: threading.Event | None,
    ) -> Item | None:
        if packet.is_corrupt:
            self._status.packet(corrupt=True)
            return None
        pts, dts = timer.times(packet)
        if pacer is not None:
            pacer.wait_until(pts, lambda s: self._sleep(s, stop))
        wall = self._clock.now()
        timer.seen(wall)
        self._status.packet()
        ring_packet = RingPacket(bytes(packet), pts, dts, packet.is_keyframe, wall, template)
        self.ring.push(ring_packet)
        if sampler is None:
            return ring_packet, []
        samples = sampler.feed(packet, pts)
        frames = []
        for picture, fpts, key in samples:
            self._status.frame()
            frames.append(SampledFrame(picture=picture, pts=fpts, wall=wall, keyframe=key))
        return ring_packet, frames


def _frame_step(stream: Any) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(1 / rate) if rate else 0.04


def open_source(
    url: str,
    settings: StreamSettings,
    *,
    clock: Clock | None = None,
    realtime: bool = False,
    loop: bool = False,
) -> Source:
    """A source for an RTSP URL or a video file. Nothing is opened until it is read."""
    return Source(str(url), settings, clock=clock, realtime=realtime, loop=loop)

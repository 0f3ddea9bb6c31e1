"""Thread-safe bookkeeping behind ``Source.status``."""

from __future__ import annotations

import dataclasses
import threading

from streams.clock import Clock
from streams.datatypes import StreamState, StreamStatus


class StatusTracker:
    """Counters and the online / reconnecting / offline state, read from any thread.

    ``offline`` is derived when read: a source that has been reconnecting for
    ``offline_after`` seconds is offline from that moment on. With ``stale_after`` (a live
    camera's read timeout), an online source silent that long reads as reconnecting at
    once, before the blocked read gives up (PyAV needs about twice the read timeout).
    """

    def __init__(
        self, clock: Clock, offline_after: float, stale_after: float | None = None
    ) -> None:
        self._clock = clock
        self._offline_after = float(offline_after)
        self._stale_after = stale_after
        self._lock = threading.Lock()
        self._s = StreamStatus(state=StreamState.RECONNECTING, since=clock.now())
        self._ever_online = False
        # counted apart from ``_s`` while online: no new snapshot object for every packet
        self._packets = 0
        self._last_packet_at: float | None = None

    def _current(self) -> StreamStatus:
        """``_s`` with the packet counters (the lock held)."""
        s = self._s
        if s.packets != self._packets or s.last_packet_at != self._last_packet_at:
            s = self._s = dataclasses.replace(
                s, packets=self._packets, last_packet_at=self._last_packet_at
            )
        return s

    def snapshot(self) -> StreamStatus:
        with self._lock:
            s = self._current()
        now = self._clock.now()
        if s.state is StreamState.ONLINE and self._stale_after is not None:
            last = s.last_packet_at if s.last_packet_at is not None else s.since
            if now - last >= self._stale_after:
                silent = now - last
                s = dataclasses.replace(
                    s,
                    state=StreamState.RECONNECTING,
                    since=last + self._stale_after,
                    last_error=f"no packet for {silent:.1f} s",
                )
        if s.state is StreamState.RECONNECTING:
            gone_at = s.since + self._offline_after
            if now >= gone_at:
                return dataclasses.replace(s, state=StreamState.OFFLINE, since=gone_at)
        return s

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._s = dataclasses.replace(self._current(), **changes)  # type: ignore[arg-type]

    def packet(self, *, corrupt: bool = False) -> None:
        now = self._clock.now()
        with self._lock:
            self._packets += 1
            self._last_packet_at = now
            if not corrupt and self._s.state is StreamState.ONLINE:
                return  # the common case: counted, no new snapshot
            s = self._current()
            changes: dict[str, object] = {}
            if corrupt:
                changes["corrupt"] = s.corrupt + 1
            if s.state is not StreamState.ONLINE:
                changes.update(state=StreamState.ONLINE, since=now)
                if self._ever_online:
                    changes["reconnects"] = s.reconnects + 1
                self._ever_online = True
            self._s = dataclasses.replace(s, **changes)  # type: ignore[arg-type]

    def frame(self) -> None:
        with self._lock:
            s = self._current()
            self._s = dataclasses.replace(s, frames=s.frames + 1)

    def corrupt(self, reason: str) -> None:
        with self._lock:
            s = self._current()
            self._s = dataclasses.replace(s, corrupt=s.corrupt + 1, last_error=reason)

    def lost(self, reason: str) -> None:
        """The connection ended; reconnecting starts now (unless already reconnecting)."""
        now = self._clock.now()
        with self._lock:
            s = self._current()
            if s.state is StreamState.ONLINE:
                if self._stale_after is not None and s.last_packet_at is not None:
                    now = min(now, s.last_packet_at + self._stale_after)
                self._s = dataclasses.replace(
                    s,
                    state=StreamState.RECONNECTING,
                    since=now,
                    disconnects=s.disconnects + 1,
                    last_error=reason,
                )
            else:
                self._s = dataclasses.replace(s, last_error=reason)

    def failed(self, reason: str) -> None:
        """A connection attempt failed."""
        with self._lock:
            s = self._current()
            self._s = dataclasses.replace(
                s, failed_attempts=s.failed_attempts + 1, last_error=reason
            )

    def finished(self, reason: str) -> None:
        """A file ended: offline for good."""
        now = self._clock.now()
        self._update(state=StreamState.OFFLINE, since=now, last_error=reason)

"""Backoff ladder, status bookkeeping and the reconnect loop, on an injected clock."""

from __future__ import annotations

import random
import re
import threading

import pytest

from streams import ManualClock, StreamSettings, StreamState, open_source
from streams.backoff import Backoff
from streams.simulator import free_port
from streams.status import StatusTracker


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    b = Backoff(1.0, 8.0, jitter=0.0)
    assert [b.next_wait() for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    b.reset()
    assert b.next_wait() == 1.0


def test_backoff_jitter_stays_within_its_band() -> None:
    b = Backoff(2.0, 60.0, jitter=0.5, rng=random.Random(7))
    waits = [b.next_wait() for _ in range(8)]
    ceilings = [2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True))
    assert len({round(w, 6) for w in waits[-3:]}) == 3  # jittered, not in lock step


def test_backoff_survives_days_offline() -> None:
    b = Backoff(0.05, 3600.0, jitter=0.0)
    for _ in range(100_000):
        wait = b.next_wait()
    assert wait == 3600.0


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"minimum": 0.0, "maximum": 1.0}, "minimum must be > 0 seconds, got 0.0"),
        ({"minimum": 2.0, "maximum": 1.0}, "maximum must be >= minimum (2.0), got 1.0"),
        ({"minimum": 1.0, "maximum": 2.0, "jitter": 1.5}, "jitter must be in [0, 1], got 1.5"),
    ],
)
def test_backoff_rejects_bad_arguments(kwargs: dict[str, float], fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        Backoff(**kwargs)  # type: ignore[arg-type]


def test_status_goes_online_reconnecting_offline_and_back() -> None:
    clock = ManualClock(1000.0)
    st = StatusTracker(clock, offline_after=30.0)
    assert st.snapshot().state is StreamState.RECONNECTING
    clock.advance(1)
    st.packet()
    s = st.snapshot()
    assert (s.state, s.since, s.packets) == (StreamState.ONLINE, 1001.0, 1)
    clock.advance(5)
    st.lost("end of stream")
    s = st.snapshot()
    assert (s.state, s.since, s.disconnects, s.last_error) == (
        StreamState.RECONNECTING,
        1006.0,
        1,
        "end of stream",
    )
    clock.advance(29.9)
    assert st.snapshot().state is StreamState.RECONNECTING
    clock.advance(0.2)
    s = st.snapshot()
    assert (s.state, s.since) == (StreamState.OFFLINE, 1036.0)
    st.packet(corrupt=True)
    st.frame()
    s = st.snapshot()
    assert (s.state, s.reconnects, s.corrupt, s.frames, s.packets) == (
        StreamState.ONLINE,
        1,
        1,
        1,
        2,
    )


def test_status_notices_a_silent_stream_after_the_read_timeout() -> None:
    clock = ManualClock(0.0)
    st = StatusTracker(clock, offline_after=60.0, stale_after=5.0)
    st.packet()
    clock.advance(4.9)
    assert st.snapshot().state is StreamState.ONLINE
    clock.advance(0.2)
    s = st.snapshot()
    assert (s.state, s.since) == (StreamState.RECONNECTING, 5.0)
    assert s.last_error is not None and "no packet" in s.last_error
    clock.advance(3.0)
    st.lost("read error: timed out")  # the blocked read gives up later
    assert st.snapshot().since == 5.0


class _StopAfter(ManualClock):
    """A manual clock that sets ``stop`` once ``limit`` seconds have passed."""

    def __init__(self, limit: float, stop: threading.Event) -> None:
        super().__init__(0.0)
        self.limit = limit
        self.stop = stop

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        super().sleep(seconds, stop)
        if self.now() >= self.limit:
            self.stop.set()
        return self.stop.is_set()


def test_dead_camera_is_retried_with_backoff_and_reported_offline() -> None:
    """A refused connection for 60 s of clock time: about log2 + 60/8 attempts, offline at 20 s."""
    stop = threading.Event()
    clock = _StopAfter(60.0, stop)
    settings = StreamSettings(reconnect_min=1.0, reconnect_max=8.0, offline_after=20.0)
    url = f"rtsp://127.0.0.1:{free_port()}/nothing"
    with open_source(url, settings, clock=clock) as src:
        assert list(src.frames(stop)) == []
        s = src.status
    # waits 0.5–1, 1–2, 2–4, 4–8, then 4–8 each: between 8 and 16 attempts fit in 60 s
    assert 8 <= s.failed_attempts <= 16
    assert s.state is StreamState.OFFLINE and s.since == 20.0
    assert s.last_error is not None and "refused" in s.last_error.lower()

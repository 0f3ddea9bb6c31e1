"""Time for every loop in sitewatch: an injected clock and duration parsing.

Logic never calls ``time.time()``: it asks a :class:`Clock`, so replay can run a
day of footage in seconds with the same code (stream time comes from the video).
"""

from __future__ import annotations

import math
import re
import threading
import time
from typing import Annotated, Protocol

from pydantic import BeforeValidator, PlainSerializer

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(value: object) -> float:
    """Seconds from ``8s``, ``30m``, ``2h``, ``3d``, ``250ms`` or a plain number of seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 8s, 30m, 2h or 3d, got a boolean")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite duration such as 8s, 30m, 2h or 3d, got {value}")
        return float(value)
    if isinstance(value, str):
        m = _DURATION_RE.match(value)
        if m:
            return float(m.group(1)) * _UNITS[m.group(2)]
    raise ValueError(f"expected a duration such as 8s, 30m, 2h or 3d, got {value!r}")


def format_duration(seconds: float) -> str:
    """The shortest exact spelling of ``seconds`` (``7200.0`` → ``2h``)."""
    for unit in ("d", "h", "m", "s"):
        n = seconds / _UNITS[unit]
        if n >= 1 and n == int(n):
            return f"{int(n)}{unit}"
    return f"{seconds:g}s"


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A pydantic field type: seconds as a float, written in YAML as ``10s`` / ``2h`` / ``3d``."""


class Clock(Protocol):
    """Where loops get the time (seconds) and how they wait."""

    def now(self) -> float: ...

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        """Wait ``seconds``; return True early if ``stop`` was set."""
        ...


class SystemClock:
    """Wall-clock time; waits are interruptible by a stop event."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        if stop is None:
            time.sleep(max(0.0, seconds))
            return False
        return stop.wait(max(0.0, seconds))


class ManualClock:
    """A clock that only moves when told to: for tests and replay."""

    def __init__(self, start: float = 0.0) -> None:
        self._t = float(start)

    def now(self) -> float:
        return self._t

    def set(self, t: float) -> None:
        self._t = float(t)

    def advance(self, seconds: float) -> None:
        self._t += float(seconds)

    def sleep(self, seconds: float, stop: threading.Event | None = None) -> bool:
        self._t += max(0.0, seconds)
        return bool(stop is not None and stop.is_set())

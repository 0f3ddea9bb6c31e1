"""Exponential backoff with jitter for reconnecting cameras."""

from __future__ import annotations

import random


class Backoff:
    """Waits ``minimum``, ``2·minimum``, ``4·minimum``… capped at ``maximum``, each with jitter.

    The jitter draws the wait uniformly from ``[(1 - jitter)·w, w]`` so a site full of
    cameras that lost the same recorder does not reconnect in lock step.
    """

    def __init__(
        self,
        minimum: float,
        maximum: float,
        *,
        factor: float = 2.0,
        jitter: float = 0.5,
        rng: random.Random | None = None,
    ) -> None:
        if not minimum > 0:
            raise ValueError(f"minimum must be > 0 seconds, got {minimum!r}")
        if not maximum >= minimum:
            raise ValueError(f"maximum must be >= minimum ({minimum!r}), got {maximum!r}")
        if not factor >= 1:
            raise ValueError(f"factor must be >= 1, got {factor!r}")
        if not 0 <= jitter <= 1:
            raise ValueError(f"jitter must be in [0, 1], got {jitter!r}")
        self.minimum = float(minimum)
        self.maximum = float(maximum)
        self.factor = float(factor)
        self.jitter = float(jitter)
        self._rng = rng or random.Random()
        self._attempt = 0

    @property
    def attempt(self) -> int:
        """Steps climbed since the last reset (stops growing at the cap)."""
        return self._attempt

    def ceiling(self) -> float:
        """The wait before jitter for the next attempt."""
        return min(self.maximum, self.minimum * self.factor**self._attempt)

    def next_wait(self) -> float:
        """The next wait in seconds; each call moves one step up the ladder."""
        top = self.ceiling()
        if top < self.maximum:  # stop counting at the cap: no float overflow after days offline
            self._attempt += 1
        return top * (1.0 - self.jitter * self._rng.random())

    def reset(self) -> None:
        """Back to the first step (after a connection that worked)."""
        self._attempt = 0

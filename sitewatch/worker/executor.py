"""One inference executor shared by every camera: a bounded queue that never blocks.

Cameras ``submit`` work (one sampled frame's analysis); ``threads`` threads run it. The
queue holds at most ``size`` items across all cameras: when full, the oldest item is
dropped and counted against its camera (``on_drop``), so a slow model makes the worker
skip samples instead of stalling the cameras' readers. One camera's items run one at a
time and in order (its pipeline keeps state); different cameras run side by side.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

log = logging.getLogger(__name__)

Task = Callable[[], None]


class InferenceExecutor:
    def __init__(
        self,
        size: int,
        threads: int = 1,
        on_drop: Callable[[str], None] | None = None,
    ) -> None:
        if size < 1:
            raise ValueError(f"size must be ≥ 1 queued item, got {size}")
        if threads < 1:
            raise ValueError(f"threads must be ≥ 1, got {threads}")
        self.size = size
        self.on_drop = on_drop or (lambda camera: None)
        self._queue: deque[tuple[str, Task]] = deque()
        self._busy: set[str] = set()
        self._cond = threading.Condition()
        self._stopping = False
        self.dropped = 0
        self._threads = [
            threading.Thread(target=self._run, name=f"analysis-{i}", daemon=True)
            for i in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, camera: str, task: Task) -> None:
        """Queue ``task`` for ``camera``; drops (and counts) the oldest item when full."""
        dropped: str | None = None
        with self._cond:
            if self._stopping:
                return
            if len(self._queue) >= self.size:
                dropped = self._queue.popleft()[0]
                self.dropped += 1
            self._queue.append((camera, task))
            self._cond.notify()
        if dropped is not None:
            self.on_drop(dropped)

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def idle(self) -> bool:
        with self._cond:
            return not self._queue and not self._busy

    def stop(self, timeout: float = 10.0) -> None:
        """Forget queued items, let running ones finish, join the threads."""
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def _take(self) -> tuple[str, Task] | None:
        """The oldest item whose camera is not busy (None once stopping)."""
        with self._cond:
            while True:
                if self._stopping:
                    return None
                for i, (camera, task) in enumerate(self._queue):
                    if camera not in self._busy:
                        del self._queue[i]
                        self._busy.add(camera)
                        return camera, task
                self._cond.wait()

    def _run(self) -> None:
        while (item := self._take()) is not None:
            camera, task = item
            try:
                task()
            except Exception:
                log.exception("analysis of a frame of camera %s failed", camera)
            finally:
                with self._cond:
                    self._busy.discard(camera)
                    self._cond.notify_all()

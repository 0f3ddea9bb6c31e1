"""Delivery from the outbox: one loop per channel, oldest row first, retried until it lands.

A send either lands (2xx), fails for now (connection error, timeout, 408, 425, 429,
5xx, and 401 since a wrong worker key is no fault of the event: retried with
exponential backoff and jitter, the row stays at the head so order holds), or is
refused for good (any other 4xx, an unreadable evidence file: the row becomes a dead
letter with its reason and the next row goes). The API posts use the
detection id as ``Idempotency-Key`` and send the very same body on every retry (the
evidence files are fixed at the first attempt), so a retry after a lost answer is
applied once.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, wait_random_exponential

from sitewatch.worker.outbox import Outbox, OutboxRow

log = logging.getLogger(__name__)

EVIDENCE_PARTS = {
    "before": ".jpg",
    "after": ".jpg",
    "snapshot": ".jpg",
    "frame": ".jpg",
    "reference": ".jpg",
    "clip": ".mp4",
}
MEDIA_TYPES = {".jpg": "image/jpeg", ".mp4": "video/mp4"}
RETRYABLE = {408, 425, 429}
AUTH = 401  # the worker's key, not the event, is wrong: keep the event until the key is fixed
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
CLIP_SETTLE = 1.0  # seconds a clip file must be left alone before it counts as written


class Transient(Exception):
    """Failed for now: try again later."""


class Permanent(Exception):
    """Refused for good: keep the row as a dead letter."""


class _Stopped(Exception):
    pass


class Sender(Protocol):
    channel: str

    def send(self, row: OutboxRow) -> None:
        """Deliver ``row``; raise :class:`Transient` or :class:`Permanent` when it did not."""


def check_answer(response: httpx.Response) -> None:
    """Raise by the answer's status: Transient (408/425/429/5xx, and 401: a bad worker key
    must not turn every event into a dead letter), Permanent (any other non-2xx: 403 is a
    camera this key may not report for, which must not hold up the other cameras)."""
    code = response.status_code
    if 200 <= code < 300:
        return
    reason = f"HTTP {code}: {response.text[:500]}"
    if code == AUTH:
        raise Transient(f"{reason} (check the worker's API key)")
    if code in RETRYABLE or code >= 500:
        raise Transient(reason)
    raise Permanent(reason)


def post(client: httpx.Client, url: str, **kwargs: Any) -> httpx.Response:
    """``client.post`` with transport errors (refused, reset, timeout) as :class:`Transient`."""
    try:
        response = client.post(url, **kwargs)
    except httpx.TransportError as exc:
        raise Transient(f"{type(exc).__name__}: {exc}") from exc
    check_answer(response)
    return response


def evidence_files(folder: Path) -> list[str]:
    """The evidence files in ``folder`` the API accepts (plain files, known names), sorted."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if (
            EVIDENCE_PARTS.get(path.stem) == path.suffix
            and path.is_file()
            and not path.is_symlink()
        ):
            found.append(path.name)
    return sorted(found)


class ApiSender:
    """``POST {api_url}/api/v1/detections``: the record as part ``detection``, one part a file."""

    channel = "api"

    def __init__(self, client: httpx.Client, api_url: str, api_key: str, evidence_root: Path):
        self.client = client
        self.url = api_url.rstrip("/") + "/api/v1/detections"
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.root = Path(evidence_root).resolve()
        self.last_answer: httpx.Response | None = None

    def send(self, row: OutboxRow) -> None:
        body = json.dumps(row.payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        parts: list[tuple[str, tuple[str | None, Any, str]]] = [
            ("detection", (None, body, "application/json"))
        ]
        handles = []
        try:
            for name in row.files or []:
                path = self._inside(row.folder, name)
                handle = path.open("rb")
                handles.append(handle)
                parts.append((path.stem, (name, handle, MEDIA_TYPES[path.suffix])))
            headers = {**self.headers, "Idempotency-Key": row.key}
            self.last_answer = post(self.client, self.url, files=parts, headers=headers)
        except OSError as exc:
            raise Permanent(f"evidence file unreadable: {exc}") from exc
        finally:
            for handle in handles:
                handle.close()

    def _inside(self, folder: str | None, name: str) -> Path:
        if folder is None or name not in {f"{s}{x}" for s, x in EVIDENCE_PARTS.items()}:
            raise OSError(f"no evidence file {name!r} for this row")
        path = (Path(folder) / name).resolve()
        if not path.is_relative_to(self.root):
            raise OSError(f"{path} is outside the evidence folder {self.root}")
        return path


class DeliveryLoop:
    """Delivers one channel's rows in order until ``stop`` is set (run it in a thread).

    ``clip_ready``: whether a row's evidence is complete (its clip exported); a row is
    sent once it is or once ``not_before`` has passed, with the files present then.
    """

    def __init__(
        self,
        outbox: Outbox,
        sender: Sender,
        stop: threading.Event,
        *,
        retry_initial: float = 1.0,
        retry_max: float = 300.0,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.sender = sender
        self.stop = stop
        self.wake = threading.Event()
        self.retry_initial = retry_initial
        self.retry_max = retry_max
        self.clock = clock
        self.on_change = on_change or (lambda: None)
        self.sent = 0
        self.failed = 0

    def run(self) -> None:
        channel = self.sender.channel
        while not self.stop.is_set():
            row = self.outbox.head(channel)
            if row is None:
                self.wake.wait(1.0)
                self.wake.clear()
                continue
            if row.folder is not None and row.files is None:
                if not self._evidence_complete(row):
                    self.stop.wait(0.25)
                    continue
                files = evidence_files(Path(row.folder))
                self.outbox.set_files(row.seq, files)
                row = OutboxRow(**{**row.__dict__, "files": files})
            try:
                self._deliver(row)
            except _Stopped:
                return
            except Exception:  # a bug or a broken outbox file: say so, keep the loop alive
                log.exception("%s: delivery of detection %s failed", channel, row.key)
                self.stop.wait(5.0)
            self.on_change()

    def _evidence_complete(self, row: OutboxRow) -> bool:
        """The clip is there and done (not touched for a second: it is written in place),
        or the row has waited for it long enough."""
        assert row.folder is not None
        now = self.clock()
        if now >= row.not_before:
            return True
        try:
            return (Path(row.folder) / "clip.mp4").stat().st_mtime < now - CLIP_SETTLE
        except OSError:
            return False

    def _deliver(self, row: OutboxRow) -> None:
        retrying = Retrying(
            wait=wait_random_exponential(multiplier=self.retry_initial, max=self.retry_max),
            retry=retry_if_exception_type(Transient),
            sleep=self._sleep,
            before_sleep=lambda state: self._failed_for_now(row, state),
            reraise=True,
        )
        try:
            retrying(self.sender.send, row)
        except Permanent as exc:
            self.failed += 1
            self.outbox.failed(row.seq, str(exc), self.clock())
            log.error(
                "%s: detection %s refused for good, kept as failed: %s",
                row.channel,
                row.key,
                exc,
            )
            return
        self.sent += 1
        self.outbox.sent(row.seq, self.clock())
        log.info("%s: delivered detection %s (%s)", row.channel, row.key, row.camera)

    def _failed_for_now(self, row: OutboxRow, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        self.outbox.attempted(row.seq, str(exc))
        wait = state.upcoming_sleep
        log.warning(
            "%s: detection %s not delivered (attempt %d, again in %.1f s): %s",
            row.channel,
            row.key,
            row.attempts + state.attempt_number,
            wait,
            exc,
        )

    def _sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise _Stopped


class HeartbeatLoop:
    """Every ``interval`` s, ``POST {api_url}/api/v1/cameras/{id}/heartbeat`` for each camera.

    ``snapshot()`` gives ``{camera: body}``. A failed heartbeat is logged and not retried:
    the next one says the same, newer.
    """

    def __init__(
        self,
        client: httpx.Client,
        api_url: str,
        api_key: str,
        snapshot: Callable[[], dict[str, dict[str, Any]]],
        interval: float,
        stop: threading.Event,
    ) -> None:
        self.client = client
        self.base = api_url.rstrip("/") + "/api/v1/cameras/"
        self.headers = {"Authorization": f"Bearer {api_key}"}
        self.snapshot = snapshot
        self.interval = interval
        self.stop = stop
        self.sent = 0
        self.failures = 0

    def beat(self) -> None:
        for camera, body in self.snapshot().items():
            try:
                post(self.client, f"{self.base}{camera}/heartbeat", json=body, headers=self.headers)
                self.sent += 1
            except (Transient, Permanent) as exc:
                self.failures += 1
                log.warning("heartbeat of camera %s not accepted: %s", camera, exc)

    def run(self) -> None:
        while True:
            self.beat()
            if self.stop.wait(self.interval):
                return

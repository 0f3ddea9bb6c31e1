"""Delivery from the queue: a channel down then up delivers everything once; two senders
at once (threads, separate connections) send each message once."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import sqlalchemy as sa

from api.notify import robots
from api.notify.sender import Backoff, deliver_due
from models import notify
from models.tables import Notification
from tests.models.conftest import World

SECRET = b"s" * 32


class Hook:
    """A webhook receiver on 127.0.0.1 that answers 503 to its first ``fail`` calls."""

    def __init__(self, fail: int, delay: float = 0.0) -> None:
        self.fail, self.delay, self.calls = fail, delay, 0
        self.delivered: Counter[str] = Counter()
        self.lock = threading.Lock()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(hook.delay)
                with hook.lock:
                    hook.calls += 1
                    down = hook.calls <= hook.fail
                    ok = (
                        robots.webhook_body(json.loads(raw), SECRET)[1][robots.SIGNATURE_HEADER]
                        == self.headers[robots.SIGNATURE_HEADER]
                    )
                    if not down and ok:
                        hook.delivered[json.loads(raw)["event"]] += 1
                self.send_response(503 if down else 200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def send(self, row: Notification) -> None:
        raw, headers = robots.webhook_body({"event": row.event, "text": row.body}, SECRET)
        httpx.post(self.url, content=raw, headers=headers, timeout=5).raise_for_status()


@pytest.fixture()
def hook() -> Iterator[Hook]:
    h = Hook(fail=3)
    yield h
    h.server.shutdown()
    h.server.server_close()


def _queue(w: World, n: int) -> None:
    with w.session() as s, s.begin():
        for i in range(n):
            notify.queue_channel(s, event=f"e{i}", kind="stage", channel="hook",
                                 text=f"#{i}", now=w.clock())  # fmt: skip


def test_channel_down_then_up_delivers_everything_once(world: World, hook: Hook) -> None:
    _queue(world, 5)
    _queue(world, 5)  # the same events again: nothing new
    backoff = Backoff(first=dt.timedelta(seconds=30))
    sent, failed = deliver_due(
        world.engine, {"hook": hook.send}, now=world.clock(), backoff=backoff
    )
    assert (sent, failed) == (2, 3)
    with world.session() as s:
        states = Counter(s.scalars(sa.select(Notification.state)))
    assert states == {"sent": 2, "pending": 3}
    assert deliver_due(world.engine, {"hook": hook.send}, now=world.clock()) == (0, 0)  # backoff
    world.clock.advance(seconds=31)
    assert deliver_due(world.engine, {"hook": hook.send}, now=world.clock()) == (3, 0)
    assert hook.delivered == {f"e{i}": 1 for i in range(5)}
    world.clock.advance(hours=2)
    assert deliver_due(world.engine, {"hook": hook.send}, now=world.clock()) == (0, 0)


def test_a_message_that_keeps_failing_is_marked_failed_with_its_reason(world: World) -> None:
    _queue(world, 1)
    backoff = Backoff(max_attempts=3)
    for _ in range(3):
        deliver_due(world.engine, {}, now=world.clock(), backoff=backoff)
        world.clock.advance(hours=1)
    with world.session() as s:
        row = s.scalars(sa.select(Notification)).one()
    assert row.state == "failed" and row.attempts == 3
    assert "no channel 'hook'" in row.last_error


def test_two_senders_at_once_send_each_message_once(world: World) -> None:
    h = Hook(fail=0, delay=0.02)
    try:
        _queue(world, 20)
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                barrier.wait(timeout=10)
                for _ in range(5):
                    deliver_due(world.engine, {"hook": h.send}, now=world.clock(), limit=4)
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert not errors, errors
        assert h.delivered == {f"e{i}": 1 for i in range(20)}
        assert h.calls == 20
    finally:
        h.server.shutdown()
        h.server.server_close()

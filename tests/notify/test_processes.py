"""Two API processes at once (separate interpreters, one database): each scans the rules
and delivers over a real webhook; every message reaches the endpoint exactly once."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
from collections import Counter
from typing import Any

import pytest
from sqlalchemy.orm import Session

from api.notify.channels import ChannelSettings, build_senders
from api.notify.sender import deliver_due
from models import notify
from models.engine import make_engine
from tests.models.conftest import TZ, World
from tests.notify.receiver import receiver
from tests.notify.test_rules import _open, _take


def _run(db_url: str, hook_url: str, now: dt.datetime, barrier: Any, out: Any) -> None:
    ch = ChannelSettings(name="hook", kind="webhook", url=hook_url, secret="k" * 32)
    policy = notify.NotifyPolicy(tz=TZ, channels=(ch.rule(),))
    engine = make_engine(db_url)
    senders = build_senders((ch,), lambda: now)
    barrier.wait(timeout=60)
    made = sent = 0
    try:
        for _ in range(3):
            with Session(engine) as s, s.begin():
                made += notify.scan(s, policy, now=now)
            sent += deliver_due(engine, senders, now=now, limit=3)[0]
    finally:
        engine.dispose()
    out.put((made, sent))


@pytest.mark.slow
def test_two_processes_scan_and_send_each_message_once(world: World, db_url: str) -> None:
    if db_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers; tests/notify/test_delivery.py covers it")
    for _ in range(4):
        cid = _open(world)
        _take(world, cid, "confirm", "operator")
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    with receiver() as rec:
        procs = [ctx.Process(target=_run, args=(db_url, f"{rec.url}/hook", world.clock(),
                                                barrier, out)) for _ in range(2)]  # fmt: skip
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        assert [p.exitcode for p in procs] == [0, 0]
        results = [out.get(timeout=5) for _ in procs]
        events = Counter(r.json["event"] for r in rec.accepted)
    # 4 cases × (report, determine) entries: one webhook post each, plus their inbox rows
    assert len(events) == 8 and set(events.values()) == {1}
    assert sum(sent for _, sent in results) == 8
    assert sum(made for made, _ in results) == 8 + 8  # 8 inbox (operator/determiner) + 8 posts

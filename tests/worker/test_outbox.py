"""The outbox and its delivery to a real HTTP server: nothing lost, nothing doubled, in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sitewatch.worker.delivery import ApiSender, DeliveryLoop, evidence_files
from sitewatch.worker.metrics import WorkerMetrics
from sitewatch.worker.outbox import Outbox
from tests.worker.conftest import API_KEY, FakeApi, wait_for

ROOT = Path(__file__).resolve().parents[2]


def make_event(evidence: Path, n: int, *, zone: str = "yard", clip: bool = True) -> dict:
    folder = evidence / "cam1" / f"20261201T1200{n:02d}-{zone}-{n:08x}"
    folder.mkdir(parents=True)
    for name in ("before.jpg", "after.jpg", "snapshot.jpg", "frame.jpg", "reference.jpg"):
        (folder / name).write_bytes(f"{name}-{n}".encode())
    if clip:
        (folder / "clip.mp4").write_bytes(b"mp4-%d" % n)
    (folder / "notes.txt").write_text("not evidence")
    payload = {
        "id": f"{n:016x}",
        "event": "confirmed",
        "camera": "cam1",
        "zone": zone,
        "bbox": [1.0, 2.0, 30.0, 40.0],
        "folder": f"cam1/{folder.name}",
        "detected_at": "2026-12-01T12:00:00.000+08:00",
    }
    return {"payload": payload, "folder": str(folder)}


def record(outbox: Outbox, event: dict, *, now: float | None = None, wait: float = 0.0) -> int:
    t = time.time() if now is None else now
    p = event["payload"]
    return outbox.record(
        ["api"],
        key=p["id"],
        camera="cam1",
        payload=p,
        folder=event["folder"],
        now=t,
        not_before=t + wait,
    )


class Running:
    """A delivery loop for channel ``api`` in a thread."""

    def __init__(self, outbox: Outbox, url: str, evidence: Path) -> None:
        self.stop = threading.Event()
        self.client = httpx.Client(timeout=5)
        sender = ApiSender(self.client, url, API_KEY, evidence)
        self.loop = DeliveryLoop(outbox, sender, self.stop, retry_initial=0.05, retry_max=0.2)
        self.thread = threading.Thread(target=self.loop.run, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.client.close()
        assert not self.thread.is_alive()


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "state" / "outbox.sqlite3")
    yield box
    box.close()


def pending(outbox: Outbox) -> int:
    return sum(r.state == "pending" for r in outbox.rows())


def test_record_is_durable_and_once_per_key(tmp_path: Path, outbox: Outbox) -> None:
    event = make_event(tmp_path / "ev", 1)
    assert record(outbox, event) == 1
    assert record(outbox, event) == 0  # the same detection again (a restart): one row
    outbox.close()
    again = Outbox(tmp_path / "state" / "outbox.sqlite3")
    rows = again.rows()
    assert [(r.key, r.state, r.payload) for r in rows] == [
        (event["payload"]["id"], "pending", event["payload"])
    ]
    mode = again._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    again.close()


def test_evidence_files_are_the_known_plain_files(tmp_path: Path) -> None:
    folder = Path(make_event(tmp_path, 3)["folder"])
    (folder / "evil.jpg").symlink_to("/etc/passwd")
    (folder / "clip.jpg").write_bytes(b"wrong suffix")
    names = ["after.jpg", "before.jpg", "clip.mp4", "frame.jpg", "reference.jpg", "snapshot.jpg"]
    assert evidence_files(folder) == names


def test_api_failing_then_answering_gets_every_event_once_in_order(
    tmp_path: Path, outbox: Outbox, fake_api: FakeApi
) -> None:
    evidence = tmp_path / "ev"
    events = [make_event(evidence, n) for n in range(5)]
    for event in events:
        record(outbox, event)
    fake_api.fail_next = 3
    fake_api.start()
    run = Running(outbox, fake_api.url, evidence)
    try:
        assert wait_for(lambda: pending(outbox) == 0, 20)
    finally:
        run.close()
    keys = [e["payload"]["id"] for e in events]
    assert fake_api.order == keys
    calls = fake_api.detection_calls()
    assert [c.status for c in calls] == [503, 503, 503] + [201] * 5
    first = calls[3]
    assert first.record == events[0]["payload"]
    assert sorted(first.files) == ["after", "before", "clip", "frame", "reference", "snapshot"]
    assert first.files["clip"] == ("clip.mp4", b"mp4-0")
    rows = outbox.rows()
    assert [r.state for r in rows] == ["sent"] * 5
    assert rows[0].attempts == 4 and "503" in str(rows[0].last_error)


def test_api_down_for_a_while_loses_nothing(
    tmp_path: Path, outbox: Outbox, fake_api: FakeApi
) -> None:
    evidence = tmp_path / "ev"
    run = Running(outbox, fake_api.url, evidence)  # nothing listens yet: refused
    try:
        events = [make_event(evidence, n) for n in range(3)]
        for event in events:
            record(outbox, event)
        assert wait_for(lambda: (outbox.rows()[0].attempts or 0) >= 3, 10)
        assert pending(outbox) == 3
        more = make_event(evidence, 3)
        record(outbox, more)
        fake_api.start()
        assert wait_for(lambda: pending(outbox) == 0, 20)
    finally:
        run.close()
    assert fake_api.order == [e["payload"]["id"] for e in [*events, more]]
    assert all(c.status == 201 for c in fake_api.detection_calls())


def test_lost_answer_is_retried_with_the_same_body_and_applied_once(
    tmp_path: Path, outbox: Outbox, fake_api: FakeApi
) -> None:
    evidence = tmp_path / "ev"
    event = make_event(evidence, 7, clip=False)
    record(outbox, event, wait=0.3)  # its clip never comes: sent without it after 0.3 s
    fake_api.lose_next = 1
    fake_api.start()
    run = Running(outbox, fake_api.url, evidence)
    try:
        assert wait_for(lambda: pending(outbox) == 0, 10)
        Path(event["folder"], "clip.mp4").write_bytes(b"late")  # not added to a sent row
    finally:
        run.close()
    assert [c.status for c in fake_api.detection_calls()] == [500, 200]
    assert fake_api.order == [event["payload"]["id"]]
    assert "clip" not in fake_api.detection_calls()[1].files


def test_waits_for_the_clip_until_not_before(
    tmp_path: Path, outbox: Outbox, fake_api: FakeApi
) -> None:
    evidence = tmp_path / "ev"
    event = make_event(evidence, 8, clip=False)
    record(outbox, event, wait=60.0)
    fake_api.start()
    run = Running(outbox, fake_api.url, evidence)
    try:
        time.sleep(0.6)
        assert fake_api.detection_calls() == []  # evidence incomplete: not sent yet
        Path(event["folder"], "clip.mp4").write_bytes(b"clip")
        time.sleep(0.4)
        assert fake_api.detection_calls() == []  # the clip may still be being written
        assert wait_for(lambda: pending(outbox) == 0, 10)
    finally:
        run.close()
    assert fake_api.detection_calls()[0].files["clip"] == ("clip.mp4", b"clip")


def test_permanent_refusal_is_a_dead_letter_and_the_queue_moves_on(
    tmp_path: Path, outbox: Outbox, fake_api: FakeApi
) -> None:
    evidence = tmp_path / "ev"
    bad, good = make_event(evidence, 1, zone="reject"), make_event(evidence, 2)
    record(outbox, bad)
    record(outbox, good)
    fake_api.start()
    run = Running(outbox, fake_api.url, evidence)
    try:
        assert wait_for(lambda: pending(outbox) == 0, 10)
        time.sleep(0.5)  # a dead letter is never retried
    finally:
        run.close()
    calls = fake_api.detection_calls()
    assert [(c.key, c.status) for c in calls] == [
        (bad["payload"]["id"], 422),
        (good["payload"]["id"], 201),
    ]
    rows = outbox.rows()
    assert [r.state for r in rows] == ["failed", "sent"]
    assert "422" in str(rows[0].last_error) and "invalid record" in str(rows[0].last_error)
    metrics = WorkerMetrics()
    metrics.watch_outbox(outbox)
    assert metrics.registry.get_sample_value("sitewatch_outbox_failed", {"channel": "api"}) == 1
    assert metrics.registry.get_sample_value("sitewatch_outbox_depth", {"channel": "api"}) == 0


def test_wrong_key_keeps_the_events_until_the_key_is_fixed(
    tmp_path: Path, outbox: Outbox, fake_api: FakeApi
) -> None:
    evidence = tmp_path / "ev"
    record(outbox, make_event(evidence, 1))
    fake_api.start()
    stop = threading.Event()
    with httpx.Client() as client:
        sender = ApiSender(client, fake_api.url, "wrong", evidence)
        loop = DeliveryLoop(outbox, sender, stop, retry_initial=0.05, retry_max=0.1)
        thread = threading.Thread(target=loop.run, daemon=True)
        thread.start()
        assert wait_for(lambda: len(fake_api.detection_calls()) >= 3, 10)
        stop.set()
        thread.join(5)
    assert {c.status for c in fake_api.detection_calls()} == {401}
    row = outbox.rows()[0]
    assert row.state == "pending" and "API key" in str(row.last_error)
    run = Running(outbox, fake_api.url, evidence)  # the key fixed: delivered
    try:
        assert wait_for(lambda: pending(outbox) == 0, 10)
    finally:
        run.close()
    assert fake_api.detection_calls()[-1].status == 201


def test_outbox_depth_and_age_metrics(tmp_path: Path, outbox: Outbox) -> None:
    now = time.time()
    record(outbox, make_event(tmp_path, 1), now=now - 120)
    record(outbox, make_event(tmp_path, 2), now=now - 5)
    metrics = WorkerMetrics()
    metrics.watch_outbox(outbox)
    get = metrics.registry.get_sample_value
    assert get("sitewatch_outbox_depth", {"channel": "api"}) == 2
    age = get("sitewatch_outbox_oldest_age_seconds", {"channel": "api"})
    assert age is not None and 119 <= age <= 130


KILLED_WORKER = textwrap.dedent(
    """
    import sys, threading, time
    from pathlib import Path
    import httpx
    from sitewatch.worker.delivery import ApiSender, DeliveryLoop
    from sitewatch.worker.outbox import Outbox
    from tests.worker.test_outbox import make_event, record
    box = Outbox(Path(sys.argv[1]))
    evidence = Path(sys.argv[2])
    for n in range(3):
        record(box, make_event(evidence, n))
    print("recorded", flush=True)
    loop = DeliveryLoop(box, ApiSender(httpx.Client(), sys.argv[3], "k", evidence),
                        threading.Event(), retry_initial=0.05, retry_max=0.1)
    loop.run()
    """
)


def test_kill_9_between_recording_and_delivery_loses_nothing(
    tmp_path: Path, fake_api: FakeApi
) -> None:
    path, evidence = tmp_path / "outbox.sqlite3", tmp_path / "ev"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER, str(path), str(evidence), fake_api.url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "recorded"
    time.sleep(0.5)  # it is retrying against an API that is not there
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert proc.returncode == -signal.SIGKILL
    fake_api.start()
    outbox = Outbox(path)
    try:
        assert pending(outbox) == 3
        run = Running(outbox, fake_api.url, evidence)
        try:
            assert wait_for(lambda: pending(outbox) == 0, 20)
        finally:
            run.close()
    finally:
        outbox.close()
    assert fake_api.order == [f"{n:016x}" for n in range(3)]
    assert len(fake_api.detection_calls()) == 3

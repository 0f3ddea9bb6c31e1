"""The ``worker:`` section: defaults, paths relative to the config, errors with line and key;
the API key from the environment or its file; the shared executor's drop-oldest queue."""

from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path

import pytest

from sitewatch.config import ConfigError, load_site
from sitewatch.worker.executor import InferenceExecutor
from sitewatch.worker.service import api_key

BASE = """\
cameras:
  - id: cam1
    url: rtsp://127.0.0.1:8554/cam1
    zones:
      - {id: z, unit: 南屿镇/旗山村, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]}
"""


def write(tmp_path: Path, worker: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(BASE + textwrap.dedent(worker), encoding="utf-8")
    return path


def test_defaults_are_stand_alone(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, ""))
    w = site.worker
    assert w.api_url is None and w.mqtt is None and w.webhooks == []
    assert w.metrics_port == 0 and w.heartbeat == 30.0 and w.queue_size == 16
    assert w.outbox_file == tmp_path / "state" / "outbox.sqlite3"


def test_full_section_with_relative_files(tmp_path: Path) -> None:
    text = """\
    worker:
      api_url: https://sitewatch.example.org/base
      api_key_file: keys/worker
      metrics_port: 9108
      heartbeat: 10s
      mqtt: {host: broker.local, username: sw, password_file: keys/mqtt}
      webhooks:
        - {url: "http://127.0.0.1:9000/hook", secret_file: keys/hook}
    """
    w = load_site(write(tmp_path, text)).worker
    assert w.api_key_file == tmp_path / "keys" / "worker"
    assert w.heartbeat == 10.0
    assert w.mqtt is not None and w.mqtt.port == 1883 and w.mqtt.topic_prefix == "sitewatch"
    assert w.mqtt.password_file == tmp_path / "keys" / "mqtt"
    assert w.webhooks[0].secret_file == tmp_path / "keys" / "hook"


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("worker:\n  api_url: ftp://x\n", 7, "worker.api_url"),
        ("worker:\n  metrics_port: 70000\n", 7, "worker.metrics_port"),
        ("worker:\n  heartbeat: 0s\n", 7, "worker.heartbeat"),
        ("worker:\n  mqtt: {port: 1883}\n", 7, "worker.mqtt.host"),
        ("worker:\n  mqtt: {host: b, topic_prefix: 'a/#'}\n", 7, "worker.mqtt.topic_prefix"),
        ("worker:\n  webhooks: [{url: 'http://h/x'}]\n", 7, "worker.webhooks[0].secret_file"),
        ("worker:\n  queue: 3\n", 7, "did you mean 'queue_size'"),
    ],
)
def test_bad_values_name_line_and_key(tmp_path: Path, text: str, line: int, says: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_site(path)
    shown = [str(p) for p in err.value.problems]
    assert any(says in s and f"{path}:{line}:" in s for s in shown), shown


def test_api_key_from_environment_then_file(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("from-file\n")
    site = load_site(write(tmp_path, "worker:\n  api_key_file: key\n"))
    assert api_key(site, {}) == "from-file"
    assert api_key(site, {"SITEWATCH_API_KEY": "from-env"}) == "from-env"
    (tmp_path / "key").write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        api_key(site, {})
    assert api_key(load_site(write(tmp_path, "")), {}) is None


def test_executor_drops_the_oldest_and_keeps_each_camera_in_order() -> None:
    gate = threading.Event()
    done: list[tuple[str, int]] = []
    drops: list[str] = []
    ex = InferenceExecutor(3, threads=2, on_drop=drops.append)
    try:
        ex.submit("a", gate.wait)  # blocks camera a in one thread
        time.sleep(0.1)
        for i in range(5):  # a1 … a5 queue behind it: the two oldest are dropped
            ex.submit("a", lambda i=i: done.append(("a", i)))
        ex.submit("b", lambda: done.append(("b", 0)))  # full again: a2 goes
        deadline = time.monotonic() + 5
        while ("b", 0) not in done and time.monotonic() < deadline:
            time.sleep(0.01)
        assert done == [("b", 0)]  # camera b is not held up by camera a
        gate.set()
        deadline = time.monotonic() + 5
        while not ex.idle() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert done == [("b", 0), ("a", 3), ("a", 4)]
        assert drops == ["a", "a", "a"] and ex.dropped == 3
    finally:
        gate.set()
        ex.stop()

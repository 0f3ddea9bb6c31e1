"""Events out: HMAC-signed webhooks (retried from the outbox) and MQTT on a real Mosquitto."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest

from sitewatch.config.worker import MqttConfig
from sitewatch.worker.delivery import DeliveryLoop
from sitewatch.worker.mqtt import MqttPublisher
from sitewatch.worker.outbox import Outbox
from sitewatch.worker.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookSender,
    sign,
    verify,
)
from streams.simulator import free_port
from tests.worker.conftest import FakeApi, wait_for

SECRET = b"webhook-secret-for-tests"


def test_signature_is_hmac_sha256_of_the_raw_body() -> None:
    body = '{"a": "测试"}'.encode()
    expected = "sha256=" + __import__("hmac").new(SECRET, body, "sha256").hexdigest()
    assert sign(SECRET, body) == expected
    assert verify(SECRET, body, expected)
    assert not verify(SECRET, body + b" ", expected)
    assert not verify(b"other", body, expected)


def test_webhook_is_signed_and_retried(tmp_path: Path, fake_api: FakeApi) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    payload = {"id": "00000000000000aa", "event": "confirmed", "zone": "yard", "camera": "cam1"}
    outbox.record(
        ["webhook:0"],
        key=payload["id"],
        camera="cam1",
        payload=payload,
        folder=None,
        now=time.time(),
    )
    fake_api.fail_next = 2
    fake_api.start()
    stop = threading.Event()
    with httpx.Client(timeout=5) as client:
        sender = WebhookSender(client, 0, f"{fake_api.url}/hook", SECRET)
        loop = DeliveryLoop(outbox, sender, stop, retry_initial=0.05, retry_max=0.2)
        thread = threading.Thread(target=loop.run, daemon=True)
        thread.start()
        try:
            assert wait_for(lambda: outbox.rows()[0].state == "sent", 10)
        finally:
            stop.set()
            thread.join(5)
    outbox.close()
    calls = [c for c in fake_api.calls if c.path == "hook"]
    assert [c.status for c in calls] == [503, 503, 200]
    for call in calls:
        headers = {k.lower(): v for k, v in call.headers.items()}
        assert verify(SECRET, call.body, headers[SIGNATURE_HEADER.lower()])
        body = json.loads(call.body)
        assert body["detection"] == payload and body["id"] == payload["id"]
        assert str(body["sent_at"]) == headers[TIMESTAMP_HEADER.lower()]
        assert abs(body["sent_at"] - time.time()) < 30
        assert headers[DELIVERY_HEADER.lower()] == payload["id"]
        assert headers["content-type"] == "application/json"


def _broker_up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class Listener:
    """A paho subscriber collecting (topic, payload, retained) on ``prefix/#``."""

    def __init__(self, port: int, prefix: str, session: str | None = None) -> None:
        self.messages: list[tuple[str, str, bool]] = []
        self.lock = threading.Lock()
        if session is None:
            self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        else:  # a persistent session: the broker keeps QoS 1 messages while it is away
            self.client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2, client_id=session, clean_session=False
            )
            self.client.reconnect_delay_set(0.2, 1)
        self.subscribed = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/#", qos=1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((msg.topic, msg.payload.decode(), bool(msg.retain)))

    def has(self, topic: str, payload: str | None = None) -> bool:
        with self.lock:
            return any(t == topic and payload in (None, p) for t, p, _ in self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def prefix() -> str:
    return f"sitewatch-test-{uuid.uuid4().hex[:8]}"


def test_mqtt_topics_on_the_real_broker(prefix: str) -> None:
    if not _broker_up(1883):
        pytest.skip("no Mosquitto on 127.0.0.1:1883")
    pub = MqttPublisher(MqttConfig(host="127.0.0.1", port=1883, topic_prefix=prefix))
    pub.state("cam1", "starting")
    pub.start()
    listen = None
    try:
        assert pub.connected.wait(10)
        pub.state("cam1", "online")
        record = {"id": "ab", "event": "confirmed", "zone": "村东", "camera": "cam1"}
        listen = Listener(1883, prefix)  # subscribes after: sees only retained messages
        assert wait_for(lambda: listen.has(f"{prefix}/available", "online"), 10)
        assert wait_for(lambda: listen.has(f"{prefix}/cam1/state", "online"), 10)
        pub.detection("cam1", record)
        assert wait_for(lambda: listen.has(f"{prefix}/cam1/detection"), 10)
        with listen.lock:
            found = [m for m in listen.messages if m[0].endswith("/detection")]
            retained = {t for t, _, r in listen.messages if r}
        assert json.loads(found[0][1]) == record and not found[0][2]
        assert retained == {f"{prefix}/available", f"{prefix}/cam1/state"}
    finally:
        pub.close()
    assert listen is not None
    assert wait_for(lambda: listen.has(f"{prefix}/available", "offline"), 10)
    listen.close()
    _clear_retained(1883, prefix)


def _clear_retained(port: int, prefix: str) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect("127.0.0.1", port)
    client.loop_start()
    for topic in ("available", "cam1/state"):
        client.publish(f"{prefix}/{topic}", b"", qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[tuple[int, list[subprocess.Popen[bytes]]]]:
    """A private Mosquitto on a free port that the test may stop and start again."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(exe).exists():
        pytest.skip("mosquitto is not installed")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\n"
        f"persistence true\npersistence_location {tmp_path}/\n"
    )
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        procs.append(subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL))
        assert wait_for(lambda: _broker_up(port), 10)

    start()
    try:
        yield port, procs
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def test_mqtt_broker_down_and_back_keeps_detections(
    own_broker: tuple[int, list[subprocess.Popen[bytes]]], prefix: str, tmp_path: Path
) -> None:
    port, procs = own_broker
    pub = MqttPublisher(MqttConfig(host="127.0.0.1", port=port, topic_prefix=prefix))
    pub.start()
    listen = Listener(port, prefix, session=f"listener-{prefix}")
    try:
        assert pub.connected.wait(10) and listen.subscribed.wait(10)
        pub.detection("cam1", {"id": "before"})
        assert wait_for(lambda: listen.has(f"{prefix}/cam1/detection"), 10)
        procs[0].terminate()
        procs[0].wait(10)
        assert wait_for(lambda: not pub.connected.is_set(), 10)
        pub.detection("cam1", {"id": "while-down"})  # queued by paho until the broker returns
        conf = tmp_path / "mosquitto.conf"
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        procs.append(subprocess.Popen([exe, "-c", str(conf)], stderr=subprocess.DEVNULL))
        assert wait_for(lambda: _broker_up(port), 10)
        assert pub.connected.wait(40)
        assert wait_for(lambda: listen.has(f"{prefix}/cam1/detection", '{"id": "while-down"}'), 40)
        with listen.lock:
            got = [json.loads(p) for t, p, _ in listen.messages if t.endswith("/detection")]
        assert got == [{"id": "before"}, {"id": "while-down"}]
    finally:
        listen.close()
        pub.close()

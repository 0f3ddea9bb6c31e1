"""MQTT events, Frigate's topic conventions where they fit (see docs/worker.md).

- ``<prefix>/available``: ``online`` / ``offline``, retained; ``offline`` is also the
  last will, so a worker that dies is shown offline by the broker.
- ``<prefix>/<camera>/state``: the camera's state (``starting``, ``online``,
  ``reconnecting``, ``offline``, ``away``), retained, re-published on every connect.
- ``<prefix>/<camera>/detection``: one JSON message per event, QoS 1 (not retained).

paho keeps QoS 1 messages published while the broker is away and sends them once it
is back (up to ``max_queued`` of them); the client reconnects on its own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from sitewatch.config.worker import MqttConfig

log = logging.getLogger(__name__)


class MqttPublisher:
    """One connection to the broker for the whole worker."""

    def __init__(self, config: MqttConfig, *, max_queued: int = 10000) -> None:
        self.config = config
        self.prefix = config.topic_prefix
        self.connected = threading.Event()
        self._states: dict[str, str] = {}
        self._lock = threading.Lock()
        client_id = f"sitewatch-worker-{socket.gethostname()}-{os.getpid()}"
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.max_queued_messages_set(max_queued)
        self.client.reconnect_delay_set(1, 30)
        self.client.will_set(self.topic("available"), "offline", qos=1, retain=True)
        if config.username is not None:
            password = None
            if config.password_file is not None:
                password = Path(config.password_file).read_text(encoding="utf-8").strip()
            self.client.username_pw_set(config.username, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect

    def topic(self, *parts: str) -> str:
        return "/".join((self.prefix, *parts))

    def start(self) -> None:
        """Connect in the background (the broker may be down: it keeps trying)."""
        self.client.connect_async(self.config.host, self.config.port, keepalive=30)
        self.client.loop_start()

    def close(self, timeout: float = 2.0) -> None:
        """Say ``offline`` (retained), then disconnect."""
        if self.connected.is_set():
            info = self.client.publish(self.topic("available"), "offline", qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    def detection(self, camera: str, record: dict[str, Any]) -> None:
        payload = json.dumps(record, ensure_ascii=False)
        self.client.publish(self.topic(camera, "detection"), payload, qos=1)

    def state(self, camera: str, state: str) -> None:
        """Publish the camera's state when it changed (retained)."""
        with self._lock:
            if self._states.get(camera) == state:
                return
            self._states[camera] = state
        self.client.publish(self.topic(camera, "state"), state, qos=1, retain=True)

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT broker %s refused the connection: %s", self.config.host, reason)
            return
        client.publish(self.topic("available"), "online", qos=1, retain=True)
        with self._lock:
            states = dict(self._states)
        for camera, state in states.items():
            client.publish(self.topic(camera, "state"), state, qos=1, retain=True)
        self.connected.set()
        log.info("MQTT connected to %s:%d", self.config.host, self.config.port)

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if self.connected.is_set():
            log.warning("MQTT disconnected from %s: %s", self.config.host, reason)
        self.connected.clear()

"""Webhooks: each event POSTed as JSON, signed with HMAC-SHA256, retried from the outbox.

Headers: ``X-Sitewatch-Signature: sha256=<hex>`` (HMAC-SHA256 of the raw body with the
shared secret), ``X-Sitewatch-Timestamp`` (Unix seconds, also ``sent_at`` inside the
signed body, so a receiver can refuse stale replays), ``X-Sitewatch-Delivery`` (the
detection id: the same on every retry, for de-duplication).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from sitewatch.worker.delivery import post
from sitewatch.worker.outbox import OutboxRow

SIGNATURE_HEADER = "X-Sitewatch-Signature"
TIMESTAMP_HEADER = "X-Sitewatch-Timestamp"
DELIVERY_HEADER = "X-Sitewatch-Delivery"


def sign(secret: bytes, body: bytes) -> str:
    """The signature header's value for ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str) -> bool:
    """Whether ``header`` is the signature of ``body`` (constant-time compare)."""
    return hmac.compare_digest(sign(secret, body), header)


def read_secret(path: Path) -> bytes:
    secret = Path(path).read_bytes().strip()
    if not secret:
        raise ValueError(f"{path}: the webhook secret file is empty")
    return secret


class WebhookSender:
    """Sends rows of channel ``webhook:<index>`` to ``url``."""

    def __init__(
        self,
        client: httpx.Client,
        index: int,
        url: str,
        secret: bytes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.channel = f"webhook:{index}"
        self.client = client
        self.url = url
        self.secret = secret
        self.clock = clock

    def send(self, row: OutboxRow) -> None:
        stamp = str(int(self.clock()))
        body = json.dumps(
            {
                "type": "detection",
                "id": row.key,
                "camera": row.camera,
                "sent_at": int(stamp),
                "detection": row.payload,
            },
            ensure_ascii=False,
            sort_keys=True,
        ).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body),
            TIMESTAMP_HEADER: stamp,
            DELIVERY_HEADER: row.key,
        }
        post(self.client, self.url, content=body, headers=headers)

"""The configured delivery channels and their senders (robots and webhooks over httpx).

Each sender takes one queued :class:`Notification` (or a digest of several), sends it, and
returns the endpoint's answer (``HTTP 200 {"errcode":0,…}``); it raises
:class:`ChannelError` when the endpoint refuses (an HTTP error status, or a robot's
``errcode``), so :func:`api.notify.sender.deliver_due` retries it with backoff. A
connection that fails is tried again at once a few times (tenacity, short exponential
backoff) before the queue's own backoff takes over.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from api.notify import robots
from models.notify_queue import DEFAULT_OFFSETS, KINDS, ChannelRule, NotifyPolicy, after_quiet
from models.notify_text import word
from models.tables import Notification

Clock = Callable[[], dt.datetime]
Send = Callable[[Notification], object]  # the endpoint's answer; raises on failure
ROBOTS = ("wecom", "dingtalk", "feishu")


class ChannelError(Exception):
    """The endpoint answered, and refused the message."""


@dataclass(frozen=True)
class ChannelSettings:
    """One channel as the API runs it (built from ``notify.channels`` by the shell)."""

    name: str
    kind: str  # wecom | dingtalk | feishu | webhook | email
    url: str = ""
    secret: str = field(default="", repr=False)
    markdown: bool = True
    language: str = "zh"
    events: frozenset[str] = frozenset(KINDS)
    quiet: tuple[dt.time, dt.time] | None = None
    digest: bool = False
    timeout_s: float = 10.0
    host: str = ""  # SMTP
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    ca_file: str = ""  # a private CA (PEM); '' = the system's
    user: str = ""
    password: str = field(default="", repr=False)
    sender: str = ""

    def rule(self) -> ChannelRule:
        return ChannelRule(self.name, self.kind, self.events, self.language, self.quiet,
                           self.digest)  # fmt: skip


@dataclass(frozen=True)
class NotifySettings:
    """The ``notify:`` section as plain values."""

    channels: tuple[ChannelSettings, ...] = ()
    reminders: tuple[dt.timedelta, ...] = DEFAULT_OFFSETS
    offline_after: dt.timedelta = dt.timedelta(minutes=2)
    digest_every: dt.timedelta = dt.timedelta(hours=1)

    def policy(self, public_url: str, tz: dt.tzinfo) -> NotifyPolicy:
        return NotifyPolicy(
            public_url=public_url,
            offsets=self.reminders,
            tz=tz,
            offline_after=self.offline_after,
            channels=tuple(c.rule() for c in self.channels),
            digest_every=self.digest_every,
        )

    def channel(self, name: str) -> ChannelSettings:
        for ch in self.channels:
            if ch.name == name:
                return ch
        known = ", ".join(c.name for c in self.channels) or "none configured"
        raise KeyError(f"no channel {name!r} in notify.channels (channels: {known})")

    def hold(self, row: Notification, when: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
        """A retry of ``row`` at ``when``, moved past its channel's quiet hours (not urgent)."""
        ch = next((c for c in self.channels if c.name == row.channel), None)
        if ch is None or row.urgent:
            return when
        return after_quiet(when, ch.quiet, tz)

    @property
    def digests(self) -> frozenset[str]:
        return frozenset(c.name for c in self.channels if c.digest)


def items(row: Notification) -> list[tuple[str, str]]:
    """``(text, link)`` of each message a row carries (several for a digest)."""
    listed = (row.facts or {}).get("items")
    if isinstance(listed, list):
        return [(str(i["text"]), str(i.get("link") or "")) for i in listed]
    return [(row.body, row.link)]


def plain_text(row: Notification) -> str:
    return "\n\n".join(f"{t}\n{link}" if link else t for t, link in items(row))


def markdown_text(row: Notification) -> str:
    label = word(row.language, "open")
    return "\n\n".join(f"{t}\n\n[{label}]({link})" if link else t for t, link in items(row))


def webhook_message(row: Notification) -> dict[str, Any]:
    facts = row.facts or {}
    return {
        "event": row.event, "kind": row.kind, "channel": row.channel, "case": row.case_id,
        "stage": facts.get("stage"), "unit": facts.get("unit"),
        "deadline": facts.get("deadline") or None, "urgent": row.urgent,
        "language": row.language, "text": row.body, "link": row.link,
        "items": [{"text": t, "link": link} for t, link in items(row)],
    }  # fmt: skip


def post(url: str, timeout: float, **kw: Any) -> httpx.Response:
    """POST, trying a failed connection again twice (0.2 s, 0.4 s)."""
    retrying = Retrying(
        stop=stop_after_attempt(3),
        wait=wait_exponential(multiplier=0.2, max=2),
        retry=retry_if_exception_type(httpx.TransportError),
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            return httpx.post(url, timeout=timeout, **kw)
    raise AssertionError("unreachable")  # pragma: no cover


def answer(kind: str, resp: httpx.Response) -> str:
    """``HTTP <status> <body>``; ChannelError when refused."""
    shown = f"HTTP {resp.status_code} {resp.text[:500]}".rstrip()
    if resp.status_code >= 300:
        raise ChannelError(shown)
    if kind in ROBOTS:
        try:
            body = resp.json()
        except ValueError:
            raise ChannelError(f"{shown} (not the robot's JSON answer)") from None
        if not isinstance(body, dict) or not robots.robot_ok(body):
            raise ChannelError(shown)
    return shown


def robot_request(ch: ChannelSettings, row: Notification, now: dt.datetime) -> dict[str, Any]:
    """The URL and JSON body of a robot post (signed where the channel has a secret)."""
    secret = ch.secret or None
    if ch.kind == "wecom":
        body = robots.wecom_payload(markdown_text(row) if ch.markdown else plain_text(row),
                                    markdown=ch.markdown)  # fmt: skip
        return {"url": ch.url, "json": body}
    if ch.kind == "dingtalk":
        ms = int(now.timestamp() * 1000)
        if ch.markdown:
            body = robots.dingtalk_payload(row.subject[:64], markdown_text(row))
        else:
            body = {"msgtype": "text", "text": {"content": plain_text(row)}}
        return {"url": robots.dingtalk_url(ch.url, secret, ms), "json": body}
    s = int(now.timestamp())
    if ch.markdown:
        label = word(row.language, "open")
        lines = [(t, label, link) for t, link in items(row)]
        return {"url": ch.url, "json": robots.feishu_post(row.subject[:64], lines, secret, s)}
    return {"url": ch.url, "json": robots.feishu_payload(plain_text(row), secret, s)}


def send_http(ch: ChannelSettings, clock: Clock, row: Notification) -> str:
    if ch.kind == "webhook":
        raw, headers = robots.webhook_body(webhook_message(row), ch.secret.encode())
        return answer(ch.kind, post(ch.url, ch.timeout_s, content=raw, headers=headers))
    req = robot_request(ch, row, clock())
    return answer(ch.kind, post(req["url"], ch.timeout_s, json=req["json"]))


def sender_for(ch: ChannelSettings, clock: Clock) -> Send:
    if ch.kind == "email":
        from api.notify.mail import send_email

        return functools.partial(send_email, ch)
    return functools.partial(send_http, ch, clock)


def build_senders(channels: tuple[ChannelSettings, ...], clock: Clock) -> dict[str, Send]:
    """One sender per configured channel, by name."""
    return {ch.name: sender_for(ch, clock) for ch in channels}

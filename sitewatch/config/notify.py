"""The ``notify:`` section: delivery channels, quiet hours, digests, reminder offsets.

```yaml
notify:
  reminders: [24h, 4h]          # before each stage deadline, once each
  offline_after: 2m             # a camera silent this long is reported
  channels:
    - name: town-robot
      type: dingtalk            # wecom | dingtalk | feishu | webhook | email
      url: https://oapi.dingtalk.com/robot/send?access_token=…
      secret_env: DINGTALK_SECRET
      events: [stage, reject, soon, missed, checkin, offline]
      quiet_hours: "22:00-07:00" # site time zone; missed deadlines still go out
    - name: mail
      type: email
      host: smtp.example.gov.cn
      port: 465
      security: ssl
      user: sitewatch@example.gov.cn
      password_env: SMTP_PASSWORD
      sender: sitewatch@example.gov.cn
      digest: true              # one e-mail per hour per recipient
```
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sitewatch.config.types import Host, SafeId, StrictModel
from streams.clock import Duration

EventKind = Literal["stage", "reject", "soon", "missed", "checkin", "offline"]
ALL_EVENTS: tuple[EventKind, ...] = ("stage", "reject", "soon", "missed", "checkin", "offline")
_HTTP_URL = r"^https?://[^\s/?#]+(/[^\s#]*)?$"
_ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
_QUIET = r"^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$"
ROBOTS = ("wecom", "dingtalk", "feishu")


class ChannelConfig(StrictModel):
    """One delivery channel: a group robot, a webhook, or an SMTP server for e-mail."""

    name: SafeId = Field(description="Unique channel name (`sitewatch notify test --channel`).")
    type: Literal["wecom", "dingtalk", "feishu", "webhook", "email"] = Field(
        description="wecom (企业微信 group robot), dingtalk, feishu, webhook (signed JSON), "
        "or email (SMTP, to each recipient with an address set)."
    )
    url: str | None = Field(
        None,
        max_length=1024,
        pattern=_HTTP_URL,
        description="Robot or webhook URL (with its key / access_token); not for email.",
    )
    secret: str | None = Field(
        None,
        min_length=1,
        max_length=256,
        description="Signing secret (DingTalk/Feishu signed robots; required for webhook). "
        "Prefer secret_env.",
    )
    secret_env: str | None = Field(
        None, pattern=_ENV_NAME, description="Name of the environment variable holding secret."
    )
    format: Literal["markdown", "text"] = Field(
        "markdown", description="Robot message type: markdown or plain text (Feishu: text)."
    )
    language: Literal["zh", "en"] = Field(
        "zh", description="Language of group messages (e-mail uses each user's language)."
    )
    events: list[EventKind] = Field(
        default_factory=lambda: list(ALL_EVENTS),
        min_length=1,
        max_length=6,
        description="Event kinds sent here: stage, reject, soon, missed, checkin, offline.",
    )
    quiet_hours: str | None = Field(
        None,
        pattern=_QUIET,
        description='Local "HH:MM-HH:MM" (may wrap midnight) when only urgent messages '
        "(missed deadlines and check-ins) go out; the rest wait for its end.",
    )
    digest: bool = Field(
        False, description="Combine each recipient's messages into one per digest period."
    )
    timeout: Duration = Field(10.0, gt=0, le=120, description="HTTP / SMTP timeout per try.")
    host: Host | None = Field(None, description="SMTP server host (email).")
    port: int = Field(587, ge=1, le=65535, description="SMTP server port (email).")
    security: Literal["starttls", "ssl", "none"] = Field(
        "starttls", description="SMTP: STARTTLS on a plain port, SSL from the start, or none."
    )
    ca_file: Path | None = Field(
        None,
        description="PEM file of the CA that signed the SMTP server's certificate (a private "
        "CA; default: the system's CAs). Relative to the config.",
    )
    user: str | None = Field(None, max_length=256, description="SMTP login user (email).")
    password: str | None = Field(
        None, max_length=256, description="SMTP password (email). Prefer password_env."
    )
    password_env: str | None = Field(
        None, pattern=_ENV_NAME, description="Name of the environment variable holding password."
    )
    sender: str | None = Field(
        None,
        max_length=256,
        pattern=r"^[^@\s]+@[^@\s]+$",
        description="From address of the e-mails (email).",
    )

    @field_validator("ca_file")
    @classmethod
    def _file_relative(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        base = (info.context or {}).get("config_dir")
        if value is None or base is None or value.is_absolute():
            return value
        return Path(base) / value

    @model_validator(mode="after")
    def _fits_type(self) -> ChannelConfig:
        if self.type == "email":
            if self.host is None or self.sender is None:
                raise ValueError("an email channel needs host: and sender:")
            if self.url is not None:
                raise ValueError("an email channel takes host:/port:, not url:")
        elif self.url is None:
            raise ValueError(f"a {self.type} channel needs url:")
        if self.secret is not None and self.secret_env is not None:
            raise ValueError("give secret: or secret_env:, not both")
        if self.password is not None and self.password_env is not None:
            raise ValueError("give password: or password_env:, not both")
        if self.type == "webhook" and self.secret is None and self.secret_env is None:
            raise ValueError("a webhook channel needs secret: or secret_env: (it signs bodies)")
        return self

    def quiet(self) -> tuple[dt.time, dt.time] | None:
        if self.quiet_hours is None:
            return None
        start, end = self.quiet_hours.split("-")
        return dt.time.fromisoformat(start), dt.time.fromisoformat(end)

    def secret_value(self, environ: Mapping[str, str] | None = None) -> str:
        """The secret, from the file or the environment ('' when none)."""
        return _value(self.secret, self.secret_env, environ)

    def password_value(self, environ: Mapping[str, str] | None = None) -> str:
        return _value(self.password, self.password_env, environ)


def _value(plain: str | None, env_name: str | None, environ: Mapping[str, str] | None) -> str:
    if env_name is None:
        return plain or ""
    env = os.environ if environ is None else environ
    value = env.get(env_name)
    if not value:
        raise ValueError(f"environment variable {env_name} is not set")
    return value


class NotifyConfig(StrictModel):
    """Who is told what, where, and when."""

    reminders: list[Duration] = Field(
        default_factory=lambda: [86400.0, 14400.0],
        max_length=6,
        description="Reminders before each stage deadline, each sent once, each 1m to 30d "
        "(empty: none).",
    )
    offline_after: Duration = Field(
        120.0, ge=10, le=86400, description="A camera without frames this long is reported."
    )
    digest_every: Duration = Field(
        3600.0, ge=300, le=86400, description="Digest period of channels with digest: true."
    )
    channels: list[ChannelConfig] = Field(
        default_factory=list,
        max_length=32,
        description="Delivery channels besides the in-page inbox (robots, webhooks, e-mail).",
    )

    @model_validator(mode="after")
    def _checks(self) -> NotifyConfig:
        names = [c.name for c in self.channels]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate channel name(s): {', '.join(dup)}")
        bad = [r for r in self.reminders if not 60 <= r <= 30 * 86400]
        if bad:
            raise ValueError(f"reminders must each be between 1m and 30d, got {bad[0]:g} s")
        return self

    def channel(self, name: str) -> ChannelConfig:
        for ch in self.channels:
            if ch.name == name:
                return ch
        known = ", ".join(c.name for c in self.channels) or "none configured"
        raise KeyError(f"no channel {name!r} in notify.channels (channels: {known})")

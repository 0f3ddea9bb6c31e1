"""The ``worker:`` section: where detections go (API, MQTT, webhooks) and how the worker runs."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator

from sitewatch.config.types import Host, StrictModel
from streams.clock import Duration

_HTTP_URL = r"^https?://[^\s/?#]+(/[^\s?#]*)?$"


def _relative(value: Path | None, info: ValidationInfo) -> Path | None:
    base = (info.context or {}).get("config_dir")
    if value is None or base is None or value.is_absolute():
        return value
    return Path(base) / value


class MqttConfig(StrictModel):
    host: Host = Field(description="MQTT broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="MQTT broker TCP port.")
    topic_prefix: str = Field(
        "sitewatch",
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$",
        description="First part of every topic: <prefix>/<camera>/detection, "
        "<prefix>/<camera>/state, <prefix>/available.",
    )
    username: str | None = Field(
        None, min_length=1, max_length=128, description="MQTT user name (none: anonymous)."
    )
    password_file: Path | None = Field(
        None, description="File holding the MQTT password (relative to the config)."
    )

    @field_validator("password_file")
    @classmethod
    def _file_relative(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return _relative(value, info)


class WebhookConfig(StrictModel):
    url: str = Field(
        max_length=512, pattern=_HTTP_URL, description="http(s):// URL each event is POSTed to."
    )
    secret_file: Path = Field(
        description="File holding the HMAC-SHA256 secret that signs each body "
        "(relative to the config)."
    )

    @field_validator("secret_file")
    @classmethod
    def _file_relative(cls, value: Path, info: ValidationInfo) -> Path | None:
        return _relative(value, info)


class WorkerConfig(StrictModel):
    """The detector worker: delivery of events, heartbeats, metrics and its outbox."""

    api_url: str | None = Field(
        None,
        max_length=512,
        pattern=_HTTP_URL,
        description="Base URL of the sitewatch API detections are posted to "
        "(none: stand-alone, events go only to MQTT, webhooks and --events-out).",
    )
    api_key_file: Path | None = Field(
        None,
        description="File holding the worker's API key (relative to the config); "
        "the environment's SITEWATCH_API_KEY overrides it.",
    )
    metrics_port: int = Field(
        0, ge=0, le=65535, description="TCP port of the Prometheus metrics (0: no metrics)."
    )
    metrics_host: Host = Field("127.0.0.1", description="Address the metrics listen on.")
    heartbeat: Duration = Field(
        30.0, ge=1, le=3600, description="How often each camera's state is sent to the API."
    )
    queue_size: int = Field(
        16,
        ge=1,
        le=10000,
        description="Frames waiting for analysis, all cameras together; when full the "
        "oldest is dropped and counted.",
    )
    analysis_threads: int = Field(
        1, ge=1, le=64, description="Threads analysing frames (each camera one frame at a time)."
    )
    outbox_file: Path = Field(
        Path("state/outbox.sqlite3"),
        validate_default=True,
        description="SQLite file where events wait until delivered (relative to the config).",
    )
    retry_max: Duration = Field(
        300.0, ge=1, le=86400, description="Longest wait between two delivery attempts."
    )
    mqtt: MqttConfig | None = Field(
        None, description="MQTT broker events are published to (Frigate-style topics)."
    )
    webhooks: list[WebhookConfig] = Field(
        default_factory=list, description="URLs each event is POSTed to, HMAC-signed, retried."
    )

    @field_validator("api_key_file", "outbox_file")
    @classmethod
    def _file_relative(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        return _relative(value, info)

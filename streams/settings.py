"""Per-camera stream settings, as they appear on each camera in the site YAML."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from streams.clock import Duration


class StreamSettings(BaseModel):
    """How a camera is read. Defaults suit typical NVR streams (keyframe every 1–4 s)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sample_interval: Duration = Field(
        10.0, ge=0.04, le=86400, description="How often a frame is decoded and analysed."
    )
    transport: Literal["tcp", "udp"] = Field(
        "tcp", description="RTSP transport; TCP survives lossy links without smearing frames."
    )
    open_timeout: Duration = Field(
        10.0, ge=0.5, le=300, description="Give up connecting to the camera after this long."
    )
    read_timeout: Duration = Field(
        5.0, ge=0.5, le=300, description="A stream silent for this long is treated as hung."
    )
    ring_seconds: Duration = Field(
        30.0, ge=2, le=600, description="Seconds of compressed packets kept for clips."
    )
    reconnect_min: Duration = Field(
        1.0, ge=0.05, le=600, description="First wait before reconnecting a dead camera."
    )
    reconnect_max: Duration = Field(
        60.0, ge=0.1, le=3600, description="Longest wait between reconnect attempts (backoff cap)."
    )
    offline_after: Duration = Field(
        120.0,
        ge=1,
        le=86400,
        description="Reported offline (not just reconnecting) after this long.",
    )

"""Per-camera stream settings, as they appear on each camera in the site YAML.

:class:`StrictModel` is the base of every config section (here and in
``sitewatch.config``): unknown keys are errors, objects are frozen, and pairs of fields
named in ``ordered_fields`` must not contradict each other (``low`` ≤ ``high``); the
error is reported at whichever of the two keys comes later in the file. Strict types
(booleans are never numbers, ``"5"`` is not an integer) come from the loader, which
validates every file in pydantic's strict JSON mode.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from streams.clock import Duration, format_duration, parse_duration

ORDERED_FIELDS_ERROR = "ordered_fields"
"""pydantic error type of a broken ``ordered_fields`` pair; ``ctx`` holds ``low``/``high``."""


class StrictModel(BaseModel):
    """A config section: extra keys forbidden, frozen, cross-field order checked.

    ``ordered_fields = (("reconnect_min", "reconnect_max"), …)`` declares pairs where the
    first must not be greater than the second (None on either side skips the pair).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ordered_fields: ClassVar[tuple[tuple[str, str], ...]] = ()

    @model_validator(mode="after")
    def _check_ordered_fields(self) -> Any:
        for low, high in self.ordered_fields:
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise PydanticCustomError(
                    ORDERED_FIELDS_ERROR,
                    "{low} ({low_value}) must not be greater than {high} ({high_value})",
                    {
                        "low": low,
                        "high": high,
                        "low_value": _show(self, low, a),
                        "high_value": _show(self, high, b),
                    },
                )
        return self


def _show(model: BaseModel, name: str, value: Any) -> str:
    info = type(model).model_fields[name]
    is_duration = any(getattr(m, "func", None) is parse_duration for m in info.metadata)
    if is_duration and isinstance(value, float):
        return format_duration(value)
    return str(value)


class StreamSettings(StrictModel):
    """How a camera is read. Defaults suit typical NVR streams (keyframe every 1–4 s)."""

    ordered_fields = (("reconnect_min", "reconnect_max"), ("read_timeout", "offline_after"))

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

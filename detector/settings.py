"""Detector settings as they appear under ``detector:`` in the site YAML (and per zone)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from streams.clock import Duration

DEFAULT_STRUCTURE_CLASSES = (
    "steel_roof_shed",
    "building_extension",
    "scaffolding",
    "building_materials",
    "construction_machinery",
)


class ZoneOverrides(BaseModel):
    """Detector settings a single zone may tighten or relax; unset fields inherit."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_area: float | None = Field(
        None, gt=0, le=1, description="Smallest change to report, as a fraction of the frame area."
    )
    confirm_after: Duration | None = Field(
        None, ge=0, le=90 * 86400, description="A change must stay this long before a case opens."
    )
    sensitivity: float | None = Field(
        None, ge=0, le=1, description="0 reports only stark changes, 1 reports faint ones."
    )
    structure_classes: list[str] | None = Field(
        None, min_length=1, description="Structure model classes that count in this zone."
    )


class DetectorSettings(BaseModel):
    """How changes are found and confirmed. Zones may override the first four fields."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_area: float = Field(
        0.002, gt=0, le=1, description="Smallest change to report, as a fraction of the frame area."
    )
    confirm_after: Duration = Field(
        7200.0, ge=0, le=90 * 86400, description="A change must stay this long before a case opens."
    )
    sensitivity: float = Field(
        0.5, ge=0, le=1, description="0 reports only stark changes, 1 reports faint ones."
    )
    structure_classes: list[str] = Field(
        default_factory=lambda: list(DEFAULT_STRUCTURE_CLASSES),
        min_length=1,
        description="Structure model classes that count as a new structure.",
    )
    transient_model: Path | None = Field(
        None,
        description="Optional COCO detector (YOLOX or ultralytics ONNX/.pt) whose people, "
        "vehicles and animals are ignored.",
    )
    structure_model: Path | None = Field(
        None,
        description="Structure model that labels confirmed changes; default: the shipped weights.",
    )
    threads: int = Field(1, ge=1, le=64, description="CPU threads for model inference.")
    analysis_width: int = Field(
        384, ge=128, le=1920, description="Width in pixels of the downscaled analysed image."
    )
    warmup_samples: int = Field(
        10, ge=1, le=1000, description="Samples a new camera (or light mode) needs first."
    )
    stable_samples: int = Field(
        3, ge=1, le=100, description="Samples in a row a pixel must be changed to count as stable."
    )
    max_missed: int = Field(
        4, ge=0, le=1000, description="Samples a candidate may be missing (dusk, occlusion)."
    )
    reference_adapt: Duration = Field(
        3600.0,
        ge=60,
        le=30 * 86400,
        description="Time constant of the slow reference update (stream time); changed pixels "
        "adapt 4× slower, pending regions never.",
    )

    reaim_after: Duration = Field(
        7200.0,
        ge=60,
        le=30 * 86400,
        description="A view that has not come back for this long (stream time) is the "
        "camera's new view: it is learnt afresh (PTZ tours away for less are skipped).",
    )

    def for_zone(self, overrides: ZoneOverrides | None) -> DetectorSettings:
        """These settings with a zone's overrides applied (unset override fields inherit)."""
        if overrides is None:
            return self
        fields = ZoneOverrides.model_fields
        update = {k: getattr(overrides, k) for k in fields if getattr(overrides, k) is not None}
        return self.model_copy(update=update) if update else self

    @field_validator("transient_model", "structure_model")
    @classmethod
    def _model_file_exists(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """Relative paths are relative to the config file; the file must exist."""
        if value is None:
            return None
        base = (info.context or {}).get("config_dir")
        if base is not None and not value.is_absolute():
            value = Path(base) / value
        if not value.is_file():
            raise ValueError(f"model file not found: {value}")
        return value

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

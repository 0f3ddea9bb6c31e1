"""The one site YAML: cameras with their zones, detector, database, API and storage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator

from detector.settings import DetectorSettings
from sitewatch.config.ground import GroundConfig
from sitewatch.config.loader import Loc, load_model
from sitewatch.config.notify import NotifyConfig
from sitewatch.config.pages import PagesConfig
from sitewatch.config.types import Host, SafeId, StrictModel, check_camera_url
from sitewatch.config.units import UnitsConfig, units_checks
from sitewatch.config.worker import WorkerConfig
from sitewatch.config.workflow import WorkflowConfig
from sitewatch.config.zones import MaskConfig, ZoneConfig, geofence_checks
from sitewatch.db import check_url, sqlite_beside
from streams.clock import Duration
from streams.settings import StreamSettings

PixelSize = Annotated[int, Field(ge=1, le=16384)]


class CameraConfig(StreamSettings):
    """One camera: where to read it, how, and what to watch in it."""

    id: SafeId = Field(description="Unique camera id: letters, digits, _ and - (it names folders).")
    url: str = Field(
        min_length=1,
        description="rtsp:// (or rtsps://) URL, or a video file path (relative to the config).",
    )
    name: str | None = Field(None, max_length=128, description="Human-readable camera name.")
    resolution: tuple[PixelSize, PixelSize] | None = Field(
        None, description="[width, height] of the stream; needed for zones given in pixels."
    )
    zones: list[ZoneConfig] = Field(
        default_factory=list, description="Areas watched for structures."
    )
    masks: list[MaskConfig] = Field(default_factory=list, description="Areas never analysed.")
    ground: GroundConfig | None = Field(
        None, description="Control points mapping pixels to the ground (areas in m², lon/lat)."
    )

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str, info: ValidationInfo) -> str:
        return check_camera_url(value, (info.context or {}).get("config_dir"))


class DatabaseConfig(StrictModel):
    url: str = Field(
        "sqlite:///sitewatch.db",
        description="SQLAlchemy URL: sqlite:///FILE (embedded default; relative to the config "
        "file) or postgresql+psycopg://…",
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str, info: ValidationInfo) -> str:
        base = (info.context or {}).get("config_dir")
        url = check_url(value)
        return url if base is None else sqlite_beside(url, Path(base))


class ApiConfig(StrictModel):
    host: Host = Field("127.0.0.1", description="Address the API and web pages listen on.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port of the API and web pages.")
    public_url: str | None = Field(
        None,
        max_length=512,
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="URL the pages are reached at from outside (links; https:// makes "
        "cookies Secure); default http://host:port.",
    )
    secret_key_file: Path = Field(
        "state/secret_key",
        validate_default=True,  # the default is relative to the config file too
        description="File holding the secret that signs sessions and hashes API keys; created "
        "(mode 0600) when absent; SITEWATCH_SECRET_KEY overrides it. Relative to the config.",
    )
    token_ttl: Duration = Field(
        8 * 3600.0, ge=300, le=30 * 86400, description="How long a sign-in stays valid."
    )

    @field_validator("secret_key_file")
    @classmethod
    def _key_relative_to_config(cls, value: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("config_dir")
        return Path(base) / value if base is not None and not value.is_absolute() else value


class UploadLimits(StrictModel):
    image_mb: int = Field(20, ge=1, le=1024, description="Largest JPEG or PNG upload, MiB.")
    video_mb: int = Field(200, ge=1, le=8192, description="Largest MP4 clip upload, MiB.")
    pdf_mb: int = Field(50, ge=1, le=1024, description="Largest PDF document upload, MiB.")


class StorageConfig(StrictModel):
    evidence_dir: Path = Field(
        Path("evidence"),
        description="Folder for evidence (before/after images, snapshots, clips); "
        "relative to the config file.",
    )
    reference_dir: Path = Field(
        Path("state/references"),
        description="Folder where long-term reference images are kept across restarts.",
    )
    max_upload: UploadLimits = Field(
        default_factory=UploadLimits, description="Largest accepted upload per media type."
    )

    @field_validator("evidence_dir", "reference_dir")
    @classmethod
    def _relative_to_config(cls, value: Path, info: ValidationInfo) -> Path:
        base = (info.context or {}).get("config_dir")
        return Path(base) / value if base is not None and not value.is_absolute() else value


class SiteConfig(StrictModel):
    """Everything one deployment needs, in one file."""

    units: UnitsConfig | None = Field(
        None, description="Reporting units (district / towns / villages) that zones refer to."
    )
    cameras: list[CameraConfig] = Field(min_length=1, description="The cameras of this site.")
    detector: DetectorSettings = Field(
        default_factory=DetectorSettings,
        description="How changes are found and confirmed.",
    )
    database: DatabaseConfig = Field(
        default_factory=DatabaseConfig, description="Where cases and detections are kept."
    )
    api: ApiConfig = Field(default_factory=ApiConfig, description="The API and web pages.")
    pages: PagesConfig = Field(
        default_factory=PagesConfig, description="The web pages' maps (an optional tile server)."
    )
    storage: StorageConfig = Field(
        default_factory=StorageConfig, description="Folders for evidence and detector state."
    )
    workflow: WorkflowConfig = Field(
        default_factory=WorkflowConfig,
        description="Stage deadlines, working days, holidays, time zone, check-in cut-off.",
    )
    worker: WorkerConfig = Field(
        default_factory=WorkerConfig,
        description="The detector worker: API delivery, heartbeats, metrics, MQTT, webhooks.",
    )
    notify: NotifyConfig = Field(
        default_factory=NotifyConfig,
        description="Notifications: channels (robots, webhooks, e-mail), quiet hours, digests.",
    )

    def camera(self, camera_id: str) -> CameraConfig:
        for cam in self.cameras:
            if cam.id == camera_id:
                return cam
        known = ", ".join(c.id for c in self.cameras)
        raise KeyError(f"no camera {camera_id!r} in the config (cameras: {known})")


def site_checks(site: SiteConfig) -> list[tuple[Loc, str]]:
    """Rules across fields: unique camera ids, unique zone ids within a camera."""
    problems: list[tuple[Loc, str]] = []
    seen: dict[str, int] = {}
    for i, cam in enumerate(site.cameras):
        if cam.id in seen:
            problems.append(
                (
                    ("cameras", i, "id"),
                    f"duplicate camera id {cam.id!r} (first at cameras[{seen[cam.id]}])",
                )
            )
        seen.setdefault(cam.id, i)
        zone_seen: dict[str, int] = {}
        for j, zone in enumerate(cam.zones):
            if zone.id in zone_seen:
                problems.append(
                    (
                        ("cameras", i, "zones", j, "id"),
                        f"duplicate zone id {zone.id!r} in camera {cam.id!r}",
                    )
                )
            zone_seen.setdefault(zone.id, j)
    if site.units is not None:
        problems += units_checks(site.units)
    problems += geofence_checks(site)
    return problems


def load_site(path: str | Path) -> SiteConfig:
    """Read and check a site YAML; raises ConfigError listing every problem."""
    return load_model(path, SiteConfig, site_checks)

"""Settings of one API process (plain values) and the server secret key.

``sitewatch.apiconfig`` builds them from the site YAML and the environment; the secret is
``SITEWATCH_SECRET_KEY`` (≥ 32 characters) or the file ``api.secret_key_file``, created
with 32 random bytes (mode 0600) when absent.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from api.ground import GroundMaps
from api.notify.channels import NotifySettings
from api.security import MIN_SECRET_BYTES
from models.policy import WorkflowPolicy
from models.sync import SiteSpec

log = logging.getLogger(__name__)

ENV_SECRET_KEY = "SITEWATCH_SECRET_KEY"


class SettingsError(ValueError):
    """A setting that cannot be used (names the variable or key and the reason)."""


@dataclass(frozen=True)
class TileLayer:
    """A map tile server for the pages' maps (``pages.tile_url`` in the site YAML)."""

    url: str  # http(s) template with {z}, {x}, {y}
    attribution: str = ""
    max_zoom: int = 19


@dataclass(frozen=True)
class ApiSettings:
    """Plain values: the shell builds them from the site YAML (sitewatch.apiconfig)."""

    database_url: str
    secret_key: bytes = field(repr=False)
    public_url: str
    token_ttl_s: float
    evidence_dir: Path
    upload_limits: Mapping[str, int]  # media type → bytes
    policy: WorkflowPolicy = field(default_factory=WorkflowPolicy)
    site: SiteSpec | None = None  # units, cameras and zones to sync on start
    ground: GroundMaps = field(default_factory=dict)  # cameras with a ground mapping
    tiles: TileLayer | None = None  # None: the maps ask no tile server for anything
    notify: NotifySettings = field(default_factory=NotifySettings)  # channels, reminders
    scheduler_interval_s: float = 60.0

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")


def secret_key(path: Path, environ: Mapping[str, str] | None = None) -> bytes:
    """The server secret: ``$SITEWATCH_SECRET_KEY``, else the file (created when absent)."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_SECRET_KEY)
    if value:
        key = value.encode()
        if len(key) < MIN_SECRET_BYTES:
            raise SettingsError(
                f"{ENV_SECRET_KEY} must be at least {MIN_SECRET_BYTES} characters, got {len(key)}"
            )
        return key
    if not path.exists():
        _create_key_file(path)
    return _read_key_file(path)


def _create_key_file(path: Path) -> None:
    """Write a new key atomically; if another process wins the race, keep its key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")  # mode 0600
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # never replaces a key another process just wrote
            log.info("created a new secret key in %s", path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)


def _read_key_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode
        key = path.read_bytes().strip()
    except OSError as exc:
        raise SettingsError(f"api.secret_key_file {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("secret key file %s is readable by others: chmod 600 it", path)
    if len(key) < MIN_SECRET_BYTES:
        raise SettingsError(
            f"api.secret_key_file {path}: key must be at least {MIN_SECRET_BYTES} bytes, "
            f"got {len(key)}"
        )
    return key

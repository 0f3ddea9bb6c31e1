"""The API's settings from the site YAML, with environment overrides (each optional, each
wins over the YAML):

- ``SITEWATCH_DATABASE_URL``: the database URL (``database.url``).
- ``SITEWATCH_SECRET_KEY``: the server secret; else the file ``api.secret_key_file``.
- ``SITEWATCH_PUBLIC_URL``: ``api.public_url``.
- ``SITEWATCH_EVIDENCE_DIR``: ``storage.evidence_dir``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sitewatch.db import check_url

if TYPE_CHECKING:
    from api.notify.channels import NotifySettings
    from api.settings import ApiSettings
    from sitewatch.config.site import SiteConfig

ENV_DATABASE_URL = "SITEWATCH_DATABASE_URL"
ENV_PUBLIC_URL = "SITEWATCH_PUBLIC_URL"
ENV_EVIDENCE_DIR = "SITEWATCH_EVIDENCE_DIR"


def load_settings(config: str | Path, environ: Mapping[str, str] | None = None) -> ApiSettings:
    """Read the site YAML (``ConfigError`` if bad) and apply the environment."""
    from sitewatch.config.site import load_site

    return settings_from_site(load_site(config), environ)


def settings_from_site(site: SiteConfig, environ: Mapping[str, str] | None = None) -> ApiSettings:
    from api.evidence_store import JPEG, MP4, PDF, PNG
    from api.settings import ApiSettings, SettingsError, TileLayer, secret_key
    from sitewatch.casedb import site_spec

    env = os.environ if environ is None else environ
    db_url = env.get(ENV_DATABASE_URL) or site.database.url
    try:
        check_url(db_url)
    except ValueError as exc:
        raise SettingsError(f"{ENV_DATABASE_URL}: {exc}") from exc
    public_url = (env.get(ENV_PUBLIC_URL) or site.api.public_url or "").rstrip("/")
    if not public_url:
        public_url = f"http://{site.api.host}:{site.api.port}"
    elif not public_url.startswith(("http://", "https://")):
        raise SettingsError(f"{ENV_PUBLIC_URL}: must start with http:// or https://")
    evidence_dir = Path(env.get(ENV_EVIDENCE_DIR) or site.storage.evidence_dir)
    limits = site.storage.max_upload
    p = site.pages
    mib = 1 << 20
    return ApiSettings(
        database_url=db_url,
        secret_key=secret_key(site.api.secret_key_file, env),
        public_url=public_url,
        token_ttl_s=site.api.token_ttl,
        evidence_dir=evidence_dir,
        upload_limits={
            JPEG: limits.image_mb * mib,
            PNG: limits.image_mb * mib,
            MP4: limits.video_mb * mib,
            PDF: limits.pdf_mb * mib,
        },
        policy=site.workflow.policy(),
        site=site_spec(site),
        ground={c.id: (c.ground.ground_map(), c.resolution) for c in site.cameras if c.ground},
        tiles=TileLayer(p.tile_url, p.tile_attribution, p.tile_max_zoom) if p.tile_url else None,
        notify=notify_settings(site, env),
    )


def notify_settings(site: SiteConfig, environ: Mapping[str, str] | None = None) -> NotifySettings:
    """The ``notify:`` section as plain values; secrets read from the environment here."""
    import datetime as dt

    from api.notify.channels import ChannelSettings, NotifySettings
    from api.settings import SettingsError

    n = site.notify
    channels = []
    for i, c in enumerate(n.channels):
        try:
            secret, password = c.secret_value(environ), c.password_value(environ)
        except ValueError as exc:
            raise SettingsError(f"notify.channels[{i}] ({c.name}): {exc}") from None
        channels.append(
            ChannelSettings(
                name=c.name, kind=c.type, url=c.url or "", secret=secret,
                markdown=c.format == "markdown", language=c.language,
                events=frozenset(c.events), quiet=c.quiet(), digest=c.digest,
                timeout_s=c.timeout, host=c.host or "", port=c.port, security=c.security,
                user=c.user or "", password=password, sender=c.sender or "",
                ca_file=str(c.ca_file or ""),
            )
        )  # fmt: skip
    return NotifySettings(
        channels=tuple(channels),
        reminders=tuple(sorted((dt.timedelta(seconds=r) for r in n.reminders), reverse=True)),
        offline_after=dt.timedelta(seconds=n.offline_after),
        digest_every=dt.timedelta(seconds=n.digest_every),
    )

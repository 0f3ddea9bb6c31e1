"""What several commands share: a one-line command error, and loading the site config."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sitewatch.config.site import CameraConfig, SiteConfig


class CommandError(Exception):
    """A problem to print as one line before exiting with status 2."""


def load_site_or_fail(path: str) -> SiteConfig:
    """The site config; its problems are printed one per line, then CommandError."""
    from sitewatch.config import ConfigError, load_site

    try:
        return load_site(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise CommandError(f"{path}: fix the problems above first") from None


def camera_or_fail(site: SiteConfig, camera_id: str) -> CameraConfig:
    """The camera called ``camera_id``, or CommandError naming the cameras there are."""
    try:
        return site.camera(camera_id)
    except KeyError as exc:
        raise CommandError(str(exc.args[0])) from None

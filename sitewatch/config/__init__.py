"""The site YAML: schema (one small pydantic file per concern) and a line-aware loader."""

from sitewatch.config.loader import ConfigError, Problem
from sitewatch.config.site import CameraConfig, SiteConfig, load_site

__all__ = ["CameraConfig", "ConfigError", "Problem", "SiteConfig", "load_site"]

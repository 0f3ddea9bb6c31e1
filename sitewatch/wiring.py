"""Wiring: build a camera's detector pipeline from the site config (replay and the worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from detector.pipeline import CameraPipeline
from detector.structure import StructureLabeler
from sitewatch.config import CameraConfig, SiteConfig


def build_pipeline(
    site: SiteConfig,
    cam: CameraConfig,
    *,
    evidence_dir: Path | None = None,
    reference_dir: Path | None = None,
    ring: Any | None = None,
) -> CameraPipeline:
    """The detector pipeline for ``cam`` as the config describes it (models loaded)."""
    from detector.backends import load_backend
    from sitewatch.config.zones import camera_zones

    det = site.detector
    units = site.units.tree() if site.units is not None else None
    zones, masks = camera_zones(cam, units)
    transient = None
    if det.transient_model is not None:
        transient = load_backend(det.transient_model, threads=det.threads)
    return CameraPipeline(
        cam.id,
        zones,
        det,
        masks=masks,
        zone_overrides={z.id: z for z in cam.zones},
        transient=transient,
        labeler=structure_labeler(site),
        ring=ring,
        reference_dir=reference_dir,
        evidence_dir=evidence_dir,
    )


def structure_labeler(site: SiteConfig) -> StructureLabeler | None:
    """The structure labeler: the configured model, else the shipped one when present."""
    from detector.backends import load_backend
    from detector.structure import default_structure_model

    det = site.detector
    path = det.structure_model
    if path is None:
        path = default_structure_model()
        if not path.is_file():
            return None
    backend = load_backend(path, threads=det.threads)
    known = set(backend.names.values())
    wanted = {c for c in det.structure_classes} | {
        c for cam in site.cameras for z in cam.zones for c in (z.structure_classes or [])
    }
    classes = [c for c in sorted(wanted) if c in known]
    return StructureLabeler(backend, classes) if classes else None

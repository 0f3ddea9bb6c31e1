"""Wiring: build a camera's detector pipeline from the site config (replay and the worker)."""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Any

from detector.pipeline import CameraPipeline
from detector.structure import StructureLabeler
from sitewatch.config import CameraConfig, SiteConfig

_LOAD_LOCK = threading.Lock()


@functools.cache
def _shared_backend(path: str, threads: int) -> Any:
    """One loaded model per file and thread count per process: every camera's pipeline
    shares it (onnxruntime sessions are safe to run from several threads), so a worker's
    memory does not grow by a model per camera."""
    from detector.backends import load_backend

    return load_backend(Path(path), threads=threads)


def shared_backend(path: Path, threads: int) -> Any:
    with _LOAD_LOCK:
        return _shared_backend(str(Path(path).resolve()), threads)


def build_pipeline(
    site: SiteConfig,
    cam: CameraConfig,
    *,
    evidence_dir: Path | None = None,
    reference_dir: Path | None = None,
    ring: Any | None = None,
) -> CameraPipeline:
    """The detector pipeline for ``cam`` as the config describes it (models loaded)."""
    from sitewatch.config.zones import camera_zones

    det = site.detector
    units = site.units.tree() if site.units is not None else None
    zones, masks = camera_zones(cam, units)
    transient = None
    if det.transient_model is not None:
        transient = shared_backend(det.transient_model, det.threads)
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
        timezone=site.workflow.timezone,  # evidence folders named by the site's clock
    )


def structure_labeler(site: SiteConfig) -> StructureLabeler | None:
    """The structure labeler: the configured model, else the shipped one when present."""
    from detector.structure import default_structure_model, labeler_for

    det = site.detector
    path = det.structure_model
    if path is None:
        path = default_structure_model()
        if not path.is_file():
            return None
    wanted = {c for c in det.structure_classes} | {
        c for cam in site.cameras for z in cam.zones for c in (z.structure_classes or [])
    }
    return labeler_for(shared_backend(path, det.threads), path, wanted)

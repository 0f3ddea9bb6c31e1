"""Calibrated confidences travel with the weights: the worker's labeler reads them."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from detector.structure import default_structure_model, label_floors_path, load_label_floors
from sitewatch.config.site import SiteConfig, load_site
from sitewatch.wiring import structure_labeler

ROOT = Path(__file__).resolve().parents[2]


def _site(model: Path | None) -> SiteConfig:
    site = load_site(ROOT / "configs" / "example.yaml")
    det = site.detector.model_copy(update={"structure_model": model})
    return site.model_copy(update={"detector": det})


def test_the_worker_labeler_uses_the_calibrated_confidences_next_to_its_model(
    tmp_path: Path,
) -> None:
    shipped = default_structure_model()
    labeler = structure_labeler(_site(None))
    assert labeler is not None and labeler.floors == load_label_floors(shipped)
    weak = max(labeler.floors, key=labeler.floors.__getitem__)
    floor = labeler.floors[weak]
    assert 0 < floor <= 1.0
    assert not labeler.trusted(weak, float(np.nextafter(floor, 0.0)))  # → reported as change
    assert labeler.trusted(weak, floor)

    bare = tmp_path / "copy.onnx"  # the same weights without a calibration file
    shutil.copyfile(shipped, bare)
    plain = structure_labeler(_site(bare))
    assert plain is not None and plain.floors == {} and plain.trusted(weak, 0.01)
    shutil.copyfile(label_floors_path(shipped), label_floors_path(bare))
    again = structure_labeler(_site(bare))
    assert again is not None and again.floors == labeler.floors


def test_the_evaluation_labels_as_the_worker_does() -> None:
    """The bench and the suite replay scenes with the labeler the config's wiring builds."""
    from sitewatch.evaluation import shipped_labeler

    worker, evaluation = structure_labeler(_site(None)), shipped_labeler()
    assert worker is not None and evaluation is not None
    assert evaluation.floors == worker.floors == load_label_floors(default_structure_model())
    assert set(evaluation.classes) == set(_site(None).detector.structure_classes)
    assert set(evaluation.classes) <= set(worker.classes)

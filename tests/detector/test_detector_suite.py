"""The generated scene suite, encoded as H.264 and replayed through streams + the pipeline.

Each structure in a zone is reported once (also across a camera shift), no later than
``confirm_after`` plus a few samples after it is complete; nothing else is reported
(walkers, traffic, a van parked for hours, clouds, dusk, infrared night); structures
outside the zone or under a mask are not reported; a demolished structure is ``gone``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from detector.backends import load_backend
from detector.backends.base import Backend
from detector.evaluation import run_video, score
from detector.settings import DEFAULT_STRUCTURE_CLASSES
from detector.structure import StructureLabeler, default_structure_model
from detector.synth.scene import write_video
from detector.synth.suite import get_scenario, suite_names

SAMPLE_EVERY = 300.0  # scene seconds between samples (one keyframe in the suite's videos)
SLACK = 4 * SAMPLE_EVERY  # "a few samples" after completion + confirm_after


@pytest.fixture(scope="module")
def transient(shared_data: Path) -> Backend:
    return load_backend(shared_data / "models" / "yolox_nano_coco_416.onnx")


@pytest.fixture(scope="module")
def labeler() -> StructureLabeler | None:
    """The shipped structure model, as ``sitewatch replay`` uses it (None if not shipped)."""
    path = default_structure_model()
    if not path.is_file():
        return None
    backend = load_backend(path)
    classes = [c for c in DEFAULT_STRUCTURE_CLASSES if c in backend.names.values()]
    return StructureLabeler(backend, classes)


@pytest.mark.slow
@pytest.mark.parametrize("name", suite_names())
def test_scene(
    name: str, transient: Backend, labeler: StructureLabeler | None, tmp_path: Path
) -> None:
    scenario = get_scenario(name)
    video = tmp_path / f"{name}.mp4"
    truth = write_video(scenario, str(video))
    replay = run_video(
        scenario, video, sample_every=SAMPLE_EVERY, transient=transient, labeler=labeler
    )
    result = score(truth, replay.events, slack=SLACK)
    shown = [(e["event"], e["bbox"], e["first_seen_s"], e["confirmed_s"]) for e in replay.events]
    assert result.found == result.expected, f"missed structures; events: {shown}"
    assert result.false_reports == [], f"false reports: {shown}"
    assert result.duplicates == 0, f"a structure reported twice: {shown}"
    assert result.late == [], f"confirmed too late: {shown}; latencies {result.latencies}"
    assert result.gone_found == result.gone_expected, f"demolition not reported: {shown}"
    gone = [e for e in replay.events if e["event"] == "gone"]
    assert len(gone) == result.gone_expected

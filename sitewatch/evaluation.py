"""Replaying a synthetic scenario through the detector, for tests and ``bench/``.

:func:`run_video` replays an encoded scenario through ``streams.open_source`` and a
:class:`CameraPipeline` with the loop ``sitewatch replay`` runs (``detector.replay``;
stream time = video time × ``scenario.speed``). The events are scored against the ground
truth by :func:`synth.evaluation.score`. This module wires ``synth`` (scenes) to
``detector`` (analysis): neither of the two imports the other.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detector.backends.base import Backend
from detector.events import event_json
from detector.pipeline import CameraPipeline
from detector.replay import replay
from detector.settings import DetectorSettings
from detector.structure import StructureLabeler, default_structure_model, labeler_for
from geofence import Mask, Zone
from streams import StreamSettings, open_source
from synth.scene import Scenario


@dataclass
class Replay:
    """Events of one replayed scenario and what it cost."""

    events: list[dict[str, Any]]
    samples: int
    cpu_s: float
    analysis_cpu_s: float
    transient_runs: int = 0
    away: dict[str, int] = field(default_factory=dict)  # samples not in view, by reason
    new_views: int = 0  # views that never came back and were learnt afresh
    departures: int = 0  # changes absorbed as something leaving


def shipped_labeler(settings: DetectorSettings | None = None) -> StructureLabeler | None:
    """The shipped structure model as ``sitewatch replay`` labels with it when the config
    names no model (the settings' ``structure_classes``, calibrated confidences); None when
    the weights are not shipped."""
    from detector.backends import load_backend

    path = default_structure_model()
    if not path.is_file():
        return None
    classes = (settings or DetectorSettings()).structure_classes
    return labeler_for(load_backend(path), path, classes)


def pipeline_for(
    scenario: Scenario,
    *,
    transient: Backend | None = None,
    settings: DetectorSettings | None = None,
    **kwargs: Any,
) -> CameraPipeline:
    """A pipeline with the scenario's zones, masks and ``confirm_after``."""
    zones = [Zone(z.id, z.unit, z.polygon, name=z.name) for z in scenario.zones]
    masks = [Mask(m) for m in scenario.masks]
    base = settings or DetectorSettings()
    base = base.model_copy(update={"confirm_after": scenario.confirm_after})
    return CameraPipeline(scenario.name, zones, base, masks=masks, transient=transient, **kwargs)


def run_video(
    scenario: Scenario,
    video: Path,
    *,
    sample_every: float = 300.0,
    transient: Backend | None = None,
    settings: DetectorSettings | None = None,
    **kwargs: Any,
) -> Replay:
    """Replay ``video`` (the scenario encoded) sampling every ``sample_every`` scene seconds."""
    speed = scenario.speed
    stream = StreamSettings(sample_interval=max(0.04, sample_every / speed))
    pipe = pipeline_for(scenario, transient=transient, settings=settings, **kwargs)
    events: list[dict[str, Any]] = []
    samples = 0
    analysis = 0.0
    start = time.process_time()
    with open_source(str(video), stream) as src, pipe:
        for step in replay(src.frames(), pipe, speed):  # the loop `sitewatch replay` runs
            analysis += step.cpu_s
            samples += 1
            events.extend(event_json(step.events))
    runs = 0 if pipe.transient is None else pipe.transient.runs
    away = {state.value: n for state, n in pipe.view.counts.items()}
    cpu = time.process_time() - start
    return Replay(events, samples, cpu, analysis, runs, away, pipe.view.changes, pipe.departures)

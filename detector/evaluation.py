"""Scoring the pipeline on synthetic scenes with ground truth (tests and ``bench/``).

:func:`run_video` replays an encoded scenario through ``streams.open_source`` and a
:class:`CameraPipeline` with the loop ``sitewatch replay`` runs (``detector.replay``;
stream time = video time × ``scenario.speed``); :func:`score` matches its events with
the ground truth: a ``confirmed`` event matches a structure that must be reported when their boxes
overlap (IoU ≥ 0.2 or half of the smaller box), every other confirmed event is a
false report (a second event for the same structure is a duplicate), and latency is
the confirmation time minus the structure's completion time (scene seconds).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from detector import boxes as bx
from detector.backends.base import Backend
from detector.events import event_json
from detector.pipeline import CameraPipeline
from detector.replay import replay
from detector.settings import DetectorSettings
from detector.synth.scene import Scenario
from detector.synth.truth import GroundTruth, StructureTruth
from geofence import Mask, Zone
from streams import StreamSettings, open_source


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


@dataclass
class Score:
    """How a replay compares with the ground truth of its scenario."""

    scenario: str
    expected: int
    found: int
    false_reports: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    latencies: list[float] = field(default_factory=list)  # scene s after completion
    late: list[str] = field(default_factory=list)  # structures confirmed too late
    gone_expected: int = 0
    gone_found: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0


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


def _matches(event: dict[str, Any], truth: StructureTruth) -> bool:
    x1, y1, x2, y2 = (round(v) for v in event["bbox"])
    box = (x1, y1, x2, y2)
    return bx.iou(box, truth.bbox) >= 0.2 or bx.overlap(box, truth.bbox) >= 0.5


def score(truth: GroundTruth, events: list[dict[str, Any]], slack: float) -> Score:
    """Match ``events`` with ``truth``; ``slack``: scene seconds allowed after
    completion + confirm_after (a few samples)."""
    expected = truth.expected
    result = Score(truth.scenario, len(expected), 0)
    seen: set[str] = set()
    for ev in (e for e in events if e["event"] == "confirmed"):
        hit = next((s for s in expected if _matches(ev, s)), None)
        if hit is None:
            result.false_reports.append(ev)
        elif hit.id in seen:
            result.duplicates += 1
        else:
            seen.add(hit.id)
            result.found += 1
            result.latencies.append(ev["confirmed_s"] - hit.complete_scene_s)
            if ev["confirmed_s"] > hit.complete_scene_s + truth.confirm_after_scene_s + slack:
                result.late.append(hit.id)
    demolished = [s for s in expected if s.demolish_scene_s is not None]
    result.gone_expected = len(demolished)
    gone = [e for e in events if e["event"] == "gone"]
    result.gone_found = sum(1 for s in demolished if any(_matches(e, s) for e in gone))
    return result

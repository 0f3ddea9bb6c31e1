"""Scoring a replay's events against the ground truth of its synthetic scenario.

:func:`score` matches the events of a replay (``sitewatch.evaluation.run_video``) with the
ground truth: a ``confirmed`` event matches a structure that must be reported when their
boxes overlap (IoU ≥ 0.2 or half of the smaller box), every other confirmed event is a
false report (a second event for the same structure is a duplicate), and latency is the
confirmation time minus the structure's completion time (scene seconds).

Imports nothing from ``detector``: events are plain dicts (``detector.events.event_json``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from synth.truth import XYXY, GroundTruth, StructureTruth


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


def _inter(a: XYXY, b: XYXY) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return float(max(0, w) * max(0, h))


def _area(a: XYXY) -> float:
    return float(max(0, a[2] - a[0]) * max(0, a[3] - a[1]))


def box_iou(a: XYXY, b: XYXY) -> float:
    """Intersection over union of two XYXY boxes."""
    union = _area(a) + _area(b) - _inter(a, b)
    return _inter(a, b) / union if union > 0 else 0.0


def box_overlap(a: XYXY, b: XYXY) -> float:
    """Intersection over the smaller box's area."""
    small = min(_area(a), _area(b))
    return _inter(a, b) / small if small > 0 else 0.0


def matches(event: dict[str, Any], truth: StructureTruth) -> bool:
    """Whether an event's box is on ``truth``'s structure."""
    x1, y1, x2, y2 = (round(v) for v in event["bbox"])
    box = (x1, y1, x2, y2)
    return box_iou(box, truth.bbox) >= 0.2 or box_overlap(box, truth.bbox) >= 0.5


def score(truth: GroundTruth, events: list[dict[str, Any]], slack: float) -> Score:
    """Match ``events`` with ``truth``; ``slack``: scene seconds allowed after
    completion + confirm_after (a few samples)."""
    expected = truth.expected
    result = Score(truth.scenario, len(expected), 0)
    seen: set[str] = set()
    for ev in (e for e in events if e["event"] == "confirmed"):
        hit = next((s for s in expected if matches(ev, s)), None)
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
    result.gone_found = sum(1 for s in demolished if any(matches(e, s) for e in gone))
    return result

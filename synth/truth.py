"""Ground truth of a rendered scenario: where each structure is and when, JSON-able."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

XYXY = tuple[int, int, int, int]


@dataclass(frozen=True)
class StructureTruth:
    """One built structure. Times in scene seconds and in video seconds since the start.

    ``bbox`` is in frame pixels as seen when complete (after any camera shift by
    then); ``bbox_first_view`` is where it sits in the first frame's alignment.
    ``expected_report`` = inside a zone and not masked: the detector must confirm it.
    """

    id: str
    cls: str
    bbox: XYXY
    bbox_first_view: XYXY
    start_scene_s: float
    complete_scene_s: float
    demolish_scene_s: float | None
    start_video_s: float
    complete_video_s: float
    demolish_video_s: float | None
    zone: str | None
    inside_zone: bool
    masked: bool
    expected_report: bool


@dataclass(frozen=True)
class VehicleTruth:
    """A vehicle parked for a while (a distractor: it must not be reported)."""

    kind: str
    bbox: XYXY
    arrive_scene_s: float
    leave_scene_s: float
    arrive_video_s: float
    leave_video_s: float
    zone: str | None


@dataclass(frozen=True)
class GroundTruth:
    """Everything a test needs to score a detector on one scenario's video."""

    scenario: str
    size: tuple[int, int]
    fps: float
    seconds_per_frame: float
    speed: float
    n_frames: int
    start_hour: float
    confirm_after_scene_s: float
    confirm_after_video_s: float
    zones: list[dict[str, Any]]
    masks: list[list[list[float]]]
    structures: list[StructureTruth]
    vehicles: list[VehicleTruth]
    camera_shifts: list[dict[str, float]]
    ir_periods: list[tuple[float, float]] = field(default_factory=list)
    view_changes: list[dict[str, Any]] = field(default_factory=list)  # kind, start/end scene s
    codec: str | None = None
    gop: int | None = None

    @property
    def expected(self) -> list[StructureTruth]:
        """Structures the detector must report."""
        return [s for s in self.structures if s.expected_report]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self, path: str | Path | None = None) -> str:
        text = json.dumps(self.to_dict(), ensure_ascii=False, indent=2)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GroundTruth:
        d = dict(d)
        d["size"] = tuple(d["size"])
        d["structures"] = [
            StructureTruth(
                **(s | {"bbox": tuple(s["bbox"]), "bbox_first_view": tuple(s["bbox_first_view"])})
            )
            for s in d["structures"]
        ]
        d["vehicles"] = [VehicleTruth(**(v | {"bbox": tuple(v["bbox"])})) for v in d["vehicles"]]
        d["ir_periods"] = [tuple(p) for p in d.get("ir_periods", [])]
        return cls(**d)

    @classmethod
    def from_json(cls, path: str | Path) -> GroundTruth:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def polygon_mask(
    poly: list[list[float]] | tuple[tuple[float, float], ...], w: int, h: int
) -> np.ndarray:
    """A (h, w) bool raster of a polygon given in fractions."""
    m = np.zeros((h, w), np.uint8)
    pts = np.round(np.asarray(poly, np.float64) * [w, h]).astype(np.int32).reshape(-1, 1, 2)
    cv2.fillPoly(m, [pts], (1,))
    return m.astype(bool)


def overlap(box: XYXY, mask: np.ndarray) -> float:
    """Fraction of ``box``'s area inside ``mask``."""
    x1, y1, x2, y2 = box
    h, w = mask.shape
    area = max(1, (x2 - x1) * (y2 - y1))
    sub = mask[max(0, y1) : min(h, y2), max(0, x1) : min(w, x2)]
    return float(sub.sum()) / area

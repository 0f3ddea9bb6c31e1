"""The one replay loop: sampled frames into a pipeline at stream time = pts × speed.

``sitewatch replay`` and the evaluation on synthetic scenes (``sitewatch.evaluation``)
both run it, so a scene scored in the tests is replayed exactly as the command does.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from detector.pipeline import CameraPipeline
from detector.types import Detections
from streams import SampledFrame


@dataclass(frozen=True)
class Step:
    """One sampled frame, the events it gave and the CPU seconds its analysis took."""

    frame: SampledFrame
    events: Detections
    cpu_s: float


def replay(
    frames: Iterable[SampledFrame], pipe: CameraPipeline, speed: float = 1.0
) -> Iterator[Step]:
    """Feed every frame to ``pipe`` at stream time ``frame.pts × speed`` (``speed``: stream
    seconds per video second); ring-buffer clips keep the source's own ``pts``."""
    if speed <= 0:
        raise ValueError(f"speed must be > 0, got {speed}")
    for frame in frames:
        t0 = time.process_time()
        found = pipe.process(frame.picture, frame.pts * speed, wall=frame.wall, pts=frame.pts)
        yield Step(frame, found, time.process_time() - t0)

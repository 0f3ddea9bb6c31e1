"""A scripted camera scene: hours of a village edge compressed into seconds of video.

A :class:`Scenario` (:mod:`synth.scenario`) says what happens (structures built and
demolished, vehicles parked, a camera knocked a few pixels, walkers, traffic, clouds, the
day/night cycle) in *scene seconds* since its start; each video frame advances the scene
by ``seconds_per_frame``. :func:`render` yields the frames, :func:`write_video` encodes
them (H.264 or HEVC) and returns the :class:`GroundTruth`.

Replaying a scenario's video with ``speed = scenario.speed`` makes stream time
equal scene time, so ``confirm_after`` (scene seconds) applies as it is.
"""

from __future__ import annotations

from synth.renderer import ground_truth, render
from synth.scenario import Build, CameraShift, Park, Scenario, ViewChange, ZoneSpec
from synth.truth import GroundTruth, StructureTruth, VehicleTruth
from synth.video import write_video

__all__ = [
    "Build",
    "CameraShift",
    "GroundTruth",
    "Park",
    "Scenario",
    "StructureTruth",
    "VehicleTruth",
    "ViewChange",
    "ZoneSpec",
    "ground_truth",
    "render",
    "write_video",
]

"""Encode a scenario as a real H.264 or HEVC MP4 with PyAV (libx264 / libx265)."""

from __future__ import annotations

import dataclasses
from fractions import Fraction
from pathlib import Path

import av

from synth.renderer import ground_truth, render
from synth.scenario import Scenario
from synth.truth import GroundTruth

CODECS = {"h264": "libx264", "hevc": "libx265"}


def write_video(
    scenario: Scenario,
    path: str | Path,
    *,
    codec: str = "h264",
    gop: int | None = None,
    crf: int = 23,
    preset: str = "veryfast",
    threads: int = 1,
) -> GroundTruth:
    """Render ``scenario`` into ``path`` (MP4) and return its ground truth.

    ``gop`` is the keyframe interval in frames (default ``scenario.gop``), fixed: no
    scene-cut keyframes, so a detector that decodes keyframes only sees a regular
    sample. ``crf``/``preset`` are the x264/x265 quality and speed settings.
    """
    if codec not in CODECS:
        raise ValueError(f"codec must be one of {', '.join(CODECS)}, got {codec!r}")
    g = scenario.gop if gop is None else gop
    if g < 1:
        raise ValueError(f"gop must be ≥ 1 frame, got {g}")
    if not 0 <= crf <= 51:
        raise ValueError(f"crf must be in 0..51, got {crf}")
    truth = ground_truth(scenario)
    w, h = scenario.size
    params = f"keyint={g}:min-keyint={g}:scenecut=0"
    options: dict[str, object] = {"preset": preset, "crf": str(crf)}
    if codec == "h264":
        options["x264-params"] = params
    else:
        options["x265-params"] = params + f":log-level=error:pools={threads}"
    with av.open(str(path), "w", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream(CODECS[codec], rate=Fraction(scenario.fps).limit_denominator(1001))
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = w, h
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = g
        stream.codec_context.thread_count = threads
        if codec == "hevc":
            stream.codec_tag = "hvc1"
        stream.options = options
        for img in render(scenario):
            frame = av.VideoFrame.from_ndarray(img, format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dataclasses.replace(truth, codec=codec, gop=g)

"""The camera simulator's own checks, and serving a codec it must transcode first."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from streams import StreamSettings, open_source
from streams.simulator import Simulator

from .conftest import StartSimulator


@pytest.mark.parametrize(
    ("videos", "kwargs", "message"),
    [
        ([], {}, "videos must name at least one video file, got none"),
        (["h264"], {"port": 70000}, "port must be in 1..65535, got 70000"),
        (["h264"], {"names": ["a", "b"]}, "names must have one name per video (1), got 2"),
        (["h264"], {"names": ["a/b"]}, "names: 'a/b' must be letters"),
        (["h264", "h264"], {"names": ["a", "a"]}, "names must be unique"),
        (["missing"], {}, "videos: file not found"),
    ],
)
def test_simulator_rejects_bad_arguments(
    h264_video: Path, videos: list[str], kwargs: dict[str, object], message: str
) -> None:
    paths = [h264_video if v == "h264" else h264_video.with_name("missing.mp4") for v in videos]
    with pytest.raises(ValueError) as err:
        Simulator(paths, **kwargs)  # type: ignore[arg-type]
    assert message in str(err.value)


def test_other_codecs_are_transcoded_to_h264(
    rtsp_simulator: StartSimulator, video_dir: Path
) -> None:
    mpeg4 = video_dir / "mpeg4.avi"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10",
         "-t", "2", "-c:v", "mpeg4", str(mpeg4)],
        check=True,
    )  # fmt: skip
    sim = rtsp_simulator([mpeg4])
    with open_source(sim.urls[0], StreamSettings(sample_interval=0.5)) as src:
        frame = next(src.frames())
        codec = src.ring.snapshot()[0].template.codec
    assert codec == "h264"
    assert frame.image.shape == (120, 160, 3)

"""Fixtures for stream tests: small videos made with ffmpeg, and the RTSP camera simulator.

Other suites can start the simulator the same way (``streams.simulator.Simulator`` on a
``free_port()``) or copy the ``rtsp_simulator`` factory below.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from streams.simulator import Simulator, free_port, unavailable_reason
from streams.testvideo import make_test_video

StartSimulator = Callable[..., Simulator]


@pytest.fixture(scope="session")
def video_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed: stream tests make their videos with it")
    return tmp_path_factory.mktemp("videos")


@pytest.fixture(scope="session")
def h264_video(video_dir: Path) -> Path:
    """4 s of 320×240 25 fps H.264, a keyframe every second."""
    return make_test_video(video_dir / "h264.mp4", codec="h264", seconds=4)


@pytest.fixture(scope="session")
def h265_video(video_dir: Path) -> Path:
    """4 s of 320×240 25 fps H.265, a keyframe every second."""
    return make_test_video(video_dir / "h265.mp4", codec="hevc", seconds=4)


@pytest.fixture(scope="session")
def simulator_ok() -> None:
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture
def rtsp_simulator(simulator_ok: None) -> Iterator[StartSimulator]:
    """Start simulators on free ports: ``rtsp_simulator([video, ...]) -> Simulator``.

    Each is stopped when the test ends, so tests may kill, pause or restart them.
    """
    started: list[Simulator] = []

    def start(videos: list[Path], **kwargs: object) -> Simulator:
        sim = Simulator(videos, free_port(), **kwargs)  # type: ignore[arg-type]
        started.append(sim)
        return sim.start()

    try:
        yield start
    finally:
        for sim in started:
            sim.stop()


@pytest.fixture(scope="module")
def cameras(simulator_ok: None, h264_video: Path, h265_video: Path) -> Iterator[Simulator]:
    """One simulator for a module: ``cam0`` H.264, ``cam1`` H.265 (do not kill it)."""
    with Simulator([h264_video, h265_video], free_port()) as sim:
        yield sim

"""File sources: keyframe sampling, the sparse-keyframe fallback, looping, pacing, corruption."""

from __future__ import annotations

import random
import threading
from pathlib import Path

import numpy as np
import pytest

from streams import (
    ManualClock,
    SampledFrame,
    SourceError,
    StreamSettings,
    StreamState,
    open_source,
)
from streams.testvideo import make_test_video


def _read(video: Path, interval: float, **kwargs: object) -> list[SampledFrame]:
    with open_source(str(video), StreamSettings(sample_interval=interval), **kwargs) as src:  # type: ignore[arg-type]
        return list(src.frames())


@pytest.mark.parametrize("video_fixture", ["h264_video", "h265_video"])
def test_one_keyframe_per_interval(video_fixture: str, request: pytest.FixtureRequest) -> None:
    video: Path = request.getfixturevalue(video_fixture)
    with open_source(str(video), StreamSettings(sample_interval=1.0)) as src:
        frames = list(src.frames())
        status = src.status
    assert [f.pts for f in frames] == pytest.approx([0.0, 1.0, 2.0, 3.0])
    assert all(f.keyframe for f in frames)
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in frames)
    assert frames[0].image.std() > 10  # a real picture, not a blank buffer
    assert (status.packets, status.frames, status.corrupt) == (100, 4, 0)
    assert status.state is StreamState.OFFLINE and status.last_error == "end of stream"


def test_interval_longer_than_the_gop_skips_keyframes(h264_video: Path) -> None:
    assert [f.pts for f in _read(h264_video, 2.0)] == pytest.approx([0.0, 2.0])
    assert [f.pts for f in _read(h264_video, 1.5)] == pytest.approx([0.0, 2.0, 3.0])


def test_sparse_keyframes_fall_back_to_decoding_inside_the_gop(video_dir: Path) -> None:
    """Keyframes every 4 s, a sample due every second: frames between keyframes are decoded."""
    video = make_test_video(video_dir / "sparse.mp4", seconds=8, gop=100)
    frames = _read(video, 1.0)
    assert [f.pts for f in frames] == pytest.approx([0, 1, 2, 3, 4, 5, 6, 7], abs=0.041)
    assert [f.keyframe for f in frames] == [True, False, False, False, True, False, False, False]
    # the in-GOP frames are real decoded pictures that differ from their keyframe
    assert np.abs(frames[1].image.astype(int) - frames[0].image.astype(int)).mean() > 1


def test_loop_continues_stream_time(h264_video: Path) -> None:
    stop = threading.Event()
    src = open_source(str(h264_video), StreamSettings(sample_interval=1.0), loop=True)
    frames = []
    with src:
        for f in src.frames(stop):
            frames.append(f)
            if len(frames) == 10:
                stop.set()
    assert [f.pts for f in frames] == pytest.approx(list(range(10)), abs=0.041)
    assert src.status.packets >= 225


def test_realtime_paces_packets_on_the_injected_clock(h264_video: Path) -> None:
    clock = ManualClock(500.0)
    frames = _read(h264_video, 1.0, clock=clock, realtime=True)
    assert [f.wall - 500.0 for f in frames] == pytest.approx([0, 1, 2, 3], abs=0.01)
    assert clock.now() - 500.0 == pytest.approx(3.96, abs=0.01)


def test_as_fast_as_possible_does_not_wait(h264_video: Path) -> None:
    clock = ManualClock(500.0)
    _read(h264_video, 1.0, clock=clock)
    assert clock.now() == 500.0


def test_corrupt_bytes_are_skipped_and_counted(video_dir: Path) -> None:
    good = make_test_video(video_dir / "to_corrupt.ts", seconds=10)
    data = bytearray(good.read_bytes())
    rng = random.Random(1)
    for _ in range(30):  # 30 splashes of random bytes in the middle 60 % of the file
        at = rng.randrange(len(data) // 5, len(data) * 4 // 5)
        data[at : at + 200] = rng.randbytes(200)
    bad = video_dir / "corrupt.ts"
    bad.write_bytes(bytes(data))
    with open_source(str(bad), StreamSettings(sample_interval=1.0)) as src:
        frames = list(src.frames())
        status = src.status
    assert status.corrupt > 0
    assert frames[-1].pts == pytest.approx(9.0)  # read on to the end after the damage
    assert 5 <= len(frames) <= 10
    assert status.packets > 200


def test_missing_file_is_an_error_at_once(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="video file not found"):
        open_source(str(tmp_path / "nope.mp4"), StreamSettings())


def test_file_without_video_is_an_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(SourceError, match="cannot open"):
        _read(text, 1.0)


def test_close_ends_the_loop(h264_video: Path) -> None:
    src = open_source(str(h264_video), StreamSettings(sample_interval=1.0), loop=True)
    got = []
    for f in src.frames():
        got.append(f)
        src.close()
    assert len(got) == 1


def test_a_camera_from_the_site_yaml_is_its_own_stream_settings(
    h264_video: Path, tmp_path: Path
) -> None:
    from sitewatch.config import load_site

    (tmp_path / "cam.mp4").write_bytes(h264_video.read_bytes())
    config = tmp_path / "site.yaml"
    config.write_text(
        "cameras:\n  - id: gate\n    url: cam.mp4\n    sample_interval: 2s\n    ring_seconds: 10s\n"
    )
    cam = load_site(config).camera("gate")
    with open_source(cam.url, cam) as src:
        frames = list(src.frames())
        assert src.ring.seconds == 10.0
    assert [f.pts for f in frames] == pytest.approx([0.0, 2.0])


def test_read_gives_every_packet_with_the_frames_due_at_it(h264_video: Path) -> None:
    with open_source(str(h264_video), StreamSettings(sample_interval=2.0)) as src:
        items = list(src.read())
    assert len(items) == 100
    with_frames = [(round(p.pts, 2), [f.pts for f in fs]) for p, fs in items if fs]
    assert with_frames == [(0.0, [0.0]), (2.0, [2.0])]
    assert all(p.keyframe for p, fs in items if fs)

"""RTSP against the GStreamer camera simulator: read, reconnect, hung server, clips."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from streams import StreamSettings, StreamState, open_source
from streams.simulator import Simulator
from streams.testvideo import make_test_video

from .conftest import StartSimulator
from .helpers import Reader, decode_errors, probe

FAST = StreamSettings(
    sample_interval=0.5, open_timeout=3, read_timeout=1, reconnect_min=0.1, reconnect_max=0.5
)


@pytest.mark.parametrize(
    ("cam", "codec", "transport"), [(0, "h264", "tcp"), (1, "hevc", "tcp"), (0, "h264", "udp")]
)
def test_reads_h264_and_h265_cameras(
    cameras: Simulator, cam: int, codec: str, transport: str
) -> None:
    settings = FAST.model_copy(update={"transport": transport})
    reader = Reader(open_source(cameras.urls[cam], settings))
    try:
        reader.wait_for(lambda: len(reader.frames) >= 4, 20, "no frames from the camera")
        status = reader.source.status
        packets = reader.source.ring.snapshot()
    finally:
        reader.close()
    frames = reader.frames
    assert all(f.image.shape == (240, 320, 3) for f in frames)
    assert frames[0].keyframe and frames[0].image.std() > 10
    gaps = [b.pts - a.pts for a, b in itertools.pairwise(frames)]
    assert all(0.45 <= g <= 1.05 for g in gaps)  # every 0.5 s of stream time, late by < 1 GOP
    assert status.state is StreamState.ONLINE and status.corrupt == 0
    assert packets[0].keyframe and packets[0].template.codec == codec


def test_ring_clip_from_a_live_camera(cameras: Simulator, tmp_path: Path) -> None:
    reader = Reader(open_source(cameras.urls[0], FAST))
    try:
        reader.wait_for(lambda: len(reader.frames) >= 6, 20, "no frames from the camera")
        newest = reader.source.ring.span()[1]  # type: ignore[index]
        clip = reader.source.ring.export_clip(newest - 1.5, newest, tmp_path / "live.mp4")
    finally:
        reader.close()
    info = probe(clip)
    assert info["codec_name"] == "h264"
    assert 1.5 <= float(str(info["duration"])) <= 2.6  # from the keyframe before start
    assert decode_errors(clip) == ""


def test_b_frame_camera_plays_and_clips(
    rtsp_simulator: StartSimulator, video_dir: Path, tmp_path: Path
) -> None:
    """B-frames: the simulator shifts negative dts, the sampler drains the reorder delay."""
    video = make_test_video(video_dir / "bframes.mp4", seconds=3, bframes=2)
    sim = rtsp_simulator([video])
    reader = Reader(open_source(sim.urls[0], FAST))
    try:
        reader.wait_for(lambda: len(reader.frames) >= 8, 20, "no frames from a B-frame camera")
        newest = reader.source.ring.span()[1]  # type: ignore[index]
        clip = reader.source.ring.export_clip(newest - 1.0, newest, tmp_path / "b.mp4")
    finally:
        reader.close()
    assert reader.frames[-1].pts >= 3.4  # looped past the end of the 3 s file
    assert decode_errors(clip) == ""
    assert int(str(probe(clip)["nb_frames"])) >= 25


def test_killed_server_comes_back_and_frames_flow_again(
    rtsp_simulator: StartSimulator, h264_video: Path
) -> None:
    sim = rtsp_simulator([h264_video])
    reader = Reader(open_source(sim.urls[0], FAST))
    try:
        reader.wait_for(lambda: len(reader.frames) >= 2, 20, "no frames before the kill")
        sim.kill()
        reader.wait_for(
            lambda: reader.source.status.state is not StreamState.ONLINE,
            10,
            "a killed server was not noticed",
        )
        before = len(reader.frames)
        last_pts = reader.frames[-1].pts
        sim.start()
        reader.wait_for(lambda: len(reader.frames) >= before + 2, 30, "no frames after restart")
        status = reader.source.status
    finally:
        reader.close()
    assert reader.frames[-1].pts > last_pts  # stream time goes on across the reconnect
    assert status.state is StreamState.ONLINE
    assert status.disconnects >= 1 and status.reconnects >= 1


def test_hung_server_is_noticed_within_twice_the_read_timeout(
    rtsp_simulator: StartSimulator, h264_video: Path
) -> None:
    sim = rtsp_simulator([h264_video])
    reader = Reader(open_source(sim.urls[0], FAST))  # SystemClock: time.time() is its time
    try:
        reader.wait_for(lambda: len(reader.frames) >= 2, 20, "no frames before SIGSTOP")
        sim.pause()
        reader.wait_for(
            lambda: reader.source.status.disconnects >= 1,
            4 * FAST.read_timeout + 2,
            "the hung connection was not dropped",
        )
        dropped_at = time.time()
        hung = reader.source.status
        sim.resume()
        before = len(reader.frames)
        reader.wait_for(lambda: len(reader.frames) >= before + 2, 30, "no frames after SIGCONT")
        after = reader.source.status
    finally:
        reader.close()
    assert hung.state is StreamState.RECONNECTING and hung.last_packet_at is not None
    assert hung.last_error is not None and "read error" in hung.last_error
    assert dropped_at - hung.last_packet_at <= 2 * FAST.read_timeout
    assert after.state is StreamState.ONLINE and after.reconnects >= 1

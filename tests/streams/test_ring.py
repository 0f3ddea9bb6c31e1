"""The packet ring: cut at keyframes, bounded, clips without re-encode (real H.264 packets)."""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import pytest

from streams import StreamSettings, open_source
from streams.ring import PacketRing, RingPacket, StreamTemplate, write_clip
from streams.timing import PacketTimer

from .helpers import decode_errors, probe


def _packets(video: Path) -> list[RingPacket]:
    with open_source(str(video), StreamSettings()) as src:
        return list(src.packets())


def test_ring_starts_at_a_keyframe(h264_video: Path) -> None:
    packets = _packets(h264_video)
    ring = PacketRing(10.0)
    for p in packets[1:30]:  # joins mid-GOP: nothing until the keyframe at 1 s
        ring.push(p)
    held = ring.snapshot()
    assert held[0].keyframe and held[0].pts == pytest.approx(1.0)
    assert ring.dropped == 24
    assert len(held) == 5


def test_ring_keeps_the_last_seconds_cut_at_keyframes(h264_video: Path) -> None:
    ring = PacketRing(2.0)
    for p in _packets(h264_video):
        ring.push(p)
    oldest, newest = ring.span()  # type: ignore[misc]
    held = ring.snapshot()
    assert held[0].keyframe
    assert newest == pytest.approx(3.96)
    assert oldest == pytest.approx(1.0)  # 1.96 s were not enough: the GOP from 1 s stays
    assert newest - oldest >= 2.0 - 0.04
    assert ring.nbytes == sum(len(p.data) for p in held)


def test_ring_drops_whole_gops_to_stay_under_max_bytes(h264_video: Path) -> None:
    packets = _packets(h264_video)
    gop_bytes = sum(len(p.data) for p in packets if p.pts < 1.0)
    ring = PacketRing(30.0, max_bytes=int(gop_bytes * 2.5))
    for p in packets:
        ring.push(p)
    assert ring.nbytes <= ring.max_bytes
    assert ring.snapshot()[0].keyframe
    assert ring.span()[0] == pytest.approx(2.0)  # type: ignore[index]


@pytest.mark.parametrize("video_fixture", ["h264_video", "h265_video"])
def test_export_clip_copies_the_codec_from_the_keyframe_before_start(
    video_fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    video: Path = request.getfixturevalue(video_fixture)
    with open_source(str(video), StreamSettings(ring_seconds=30)) as src:
        for _ in src.frames():
            pass
        clip = src.ring.export_clip(1.5, 3.0, tmp_path / "clip.mp4")
    info = probe(clip)
    assert info["codec_name"] == ("h264" if video_fixture == "h264_video" else "hevc")
    assert float(str(info["duration"])) == pytest.approx(2.04, abs=0.05)  # 1.0 … 3.0 s
    assert int(str(info["nb_frames"])) == 51
    assert decode_errors(clip) == ""


def test_export_clip_outside_the_ring_names_what_it_holds(h264_video: Path, tmp_path: Path) -> None:
    ring = PacketRing(30.0)
    for p in _packets(h264_video):
        ring.push(p)
    with pytest.raises(ValueError, match=r"no packets between 50.00 and 60.00 s .*0.00–3.96 s"):
        ring.export_clip(50.0, 60.0, tmp_path / "x.mp4")
    with pytest.raises(ValueError, match="end_pts must be >= start_pts"):
        ring.export_clip(3.0, 1.0, tmp_path / "x.mp4")
    assert not (tmp_path / "x.mp4").exists()


def test_packets_without_pts_get_times_and_still_make_a_clip(
    h264_video: Path, tmp_path: Path
) -> None:
    """The first RTSP packets can have pts=None (and dts=None); the clip must still mux."""
    timer = PacketTimer()
    out: list[RingPacket] = []
    with av.open(str(h264_video)) as container:
        stream = container.streams.video[0]
        template = StreamTemplate(stream)
        timer.new_session(stream.time_base, 0.04, now=0.0, live=True)  # type: ignore[arg-type]
        for i, packet in enumerate(container.demux(stream)):
            if packet.size == 0:
                continue
            if i < 3:
                packet.pts = None
                packet.dts = None
            pts, dts = timer.times(packet)
            out.append(RingPacket(bytes(packet), pts, dts, packet.is_keyframe, 0.0, template))
    assert [round(p.pts, 2) for p in out[:5]] == [0.0, 0.04, 0.08, 0.12, 0.16]
    assert all(b.dts > a.dts for a, b in itertools.pairwise(out))
    clip = write_clip(out, tmp_path / "untimed.mp4")
    assert int(str(probe(clip)["nb_frames"])) == 100
    assert decode_errors(clip) == ""


def test_ring_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="seconds must be > 0, got 0"):
        PacketRing(0)
    with pytest.raises(ValueError, match="max_bytes must be >= 1024, got 10"):
        PacketRing(5, max_bytes=10)


def test_a_hold_keeps_a_clip_on_its_way_then_lets_go(h264_video: Path) -> None:
    packets = _packets(h264_video)  # 4 s, a keyframe every second
    ring = PacketRing(1.0)
    held = False
    for p in packets:
        if not held and p.pts >= 1.5:
            ring.hold(1.2, 3.5)  # an event at 1.5 s: its clip starts at 1.2 s, cut at 3.5 s
            held = True
        ring.push(p)
        if held and p.pts < 3.5 - 1e-6:
            assert ring.span()[0] <= 1.2  # type: ignore[index]
    assert ring.span()[0] == pytest.approx(2.0)  # type: ignore[index]  # let go: 1 s again
    with pytest.raises(ValueError, match="until_pts"):
        ring.hold(2.0, 1.0)

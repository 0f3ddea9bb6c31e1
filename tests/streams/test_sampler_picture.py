"""The sampler hands over the decoder's picture; conversions happen only when asked for."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from detector.frames import prepare
from streams import SampledFrame, StreamSettings, open_source
from streams.picture import Picture


def _frames(video: Path, interval: float = 1.0) -> list[SampledFrame]:
    with open_source(str(video), StreamSettings(sample_interval=interval)) as src:
        return list(src.frames())


def test_sampled_frames_carry_the_decoded_picture(h264_video: Path) -> None:
    frames = _frames(h264_video)
    assert len(frames) == 4
    for f in frames:
        assert f.picture.size == (320, 240) and f.picture.shape == (240, 320, 3)
        assert f.picture._bgr is None  # nothing converted to full-size BGR yet
    image = frames[1].image
    assert image.shape == (240, 320, 3) and image.dtype == np.uint8 and image.std() > 10
    assert frames[1].image is image  # converted once, then kept


@pytest.mark.parametrize("video_fixture", ["h264_video", "h265_video"])
def test_scaled_from_yuv_matches_area_downscale_of_the_full_frame(
    video_fixture: str, request: pytest.FixtureRequest
) -> None:
    frame = _frames(request.getfixturevalue(video_fixture))[2]
    small = frame.picture.scaled(160, 120)
    assert frame.picture._bgr is None  # scaled straight from the YUV frame
    assert small.shape == (120, 160, 3) and small.dtype == np.uint8
    reference = cv2.resize(frame.image, (160, 120), interpolation=cv2.INTER_AREA)
    gray = [cv2.cvtColor(im, cv2.COLOR_BGR2GRAY).astype(np.int16) for im in (small, reference)]
    assert float(np.abs(gray[0] - gray[1]).mean()) < 1.5  # the same brightness everywhere
    # colour too, but for the test pattern's saturated edges (chroma is subsampled: the
    # two paths site it slightly differently)
    assert float(np.abs(small.astype(np.int16) - reference).mean()) < 6.0
    assert frame.picture.scaled(160, 120) is small  # kept per size
    assert frame.picture.scaled(320, 240) is frame.image  # the source size is the full image


def test_prepare_gives_the_same_maps_from_a_picture_and_from_its_bgr(h264_video: Path) -> None:
    frame = _frames(h264_video)[0]
    from_yuv = prepare(frame.picture, 160)
    from_bgr = prepare(Picture(bgr=frame.image), 160)
    assert from_yuv.norm.shape == from_bgr.norm.shape == (120, 160)
    assert from_yuv.scale == from_bgr.scale == 0.5
    assert abs(from_yuv.luma - from_bgr.luma) < 1.5 and abs(from_yuv.chroma - from_bgr.chroma) < 1.5
    assert float(np.corrcoef(from_yuv.norm.ravel(), from_bgr.norm.ravel())[0, 1]) > 0.98


def test_pictures_convert_in_several_threads_at_once(h264_video: Path) -> None:
    frames = _frames(h264_video, interval=0.25)
    expected = [f.picture.scaled(96, 72) for f in frames]  # one thread, one after another
    fresh = _frames(h264_video, interval=0.25)
    same: list[bool] = []

    def convert(indices: range) -> None:
        for k in indices:
            for size in ((96, 72), (200, 150)):  # each thread switches sizes too
                fresh[k].picture.scaled(*size)
            same.append(np.array_equal(fresh[k].picture.scaled(96, 72), expected[k]))

    half = len(fresh) // 2
    threads = [
        threading.Thread(target=convert, args=(r,)) for r in (range(half), range(half, len(fresh)))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(frames) == len(fresh) == 16 and len(same) == 16 and all(same)


def test_a_picture_needs_a_bgr_uint8_image_or_a_frame() -> None:
    with pytest.raises(ValueError, match="frame_bgr"):
        Picture(bgr=np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="exactly one"):
        Picture()
    array = np.zeros((20, 40, 3), np.uint8)
    assert Picture.of(array).bgr() is array and Picture.of(Picture.of(array)).size == (40, 20)


def _plain_keyframes(video: Path) -> list[np.ndarray]:
    """Every keyframe of ``video`` decoded the ordinary way (deblocking on), as BGR."""
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        return [f.to_ndarray(format="bgr24") for f in container.decode(stream)]


def test_hd_keyframes_are_analysed_fast_and_shown_in_full_quality(video_dir: Path) -> None:
    from streams.testvideo import make_test_video

    video = make_test_video(video_dir / "hd.mp4", seconds=2, size=(1280, 720), fps=10)
    frames = _frames(video)
    plain = _plain_keyframes(video)
    assert len(frames) == len(plain) == 2
    for frame, full in zip(frames, plain, strict=True):
        fast = frame.picture._frame.to_ndarray(format="bgr24")  # what the small pictures use
        diff = float(np.abs(fast.astype(np.int16) - full).mean())
        assert 0 < diff < 2.0  # decoded without the deblocking filter: close, not equal
        assert np.array_equal(frame.picture.bgr(), full)  # evidence: decoded again, in full
        small = frame.picture.scaled(256, 144)
        area = cv2.resize(full, (256, 144), interpolation=cv2.INTER_AREA)
        assert float(np.abs(small.astype(np.int16) - area).mean()) < 6.0


def test_small_sources_keep_the_deblocking_filter(h264_video: Path) -> None:
    frames = _frames(h264_video)
    for frame, full in zip(frames, _plain_keyframes(h264_video), strict=True):
        assert np.array_equal(frame.picture._frame.to_ndarray(format="bgr24"), full)


def test_first_gop_is_decoded_only_when_a_frame_in_it_falls_due(
    h264_video: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streams import sampler

    starts: list[float] = []
    original = sampler.Sampler._start_gop

    def counting(self: sampler.Sampler) -> None:
        starts.append(1.0)
        original(self)

    monkeypatch.setattr(sampler.Sampler, "_start_gop", counting)
    every_keyframe = _frames(h264_video, interval=1.0)
    assert not starts  # the first GOP's other frames were never decoded
    assert [round(f.pts, 2) for f in every_keyframe] == [0.0, 1.0, 2.0, 3.0]
    inside = _frames(h264_video, interval=0.5)  # due at 0.5 s, inside the first GOP
    assert starts
    assert [round(f.pts, 1) for f in inside][:3] == [0.0, 0.5, 1.0]

"""Encoded scene videos (H.264 / HEVC through PyAV) and ``sitewatch synth scene``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import av
import numpy as np
import pytest

from sitewatch.cli import main
from sitewatch.config import load_site
from synth.scene import GroundTruth, render, write_video
from synth.suite import get_scenario


def _decode(path: Path) -> tuple[str, list[np.ndarray], list[int]]:
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        name = stream.codec_context.name
        frames, keys = [], []
        for i, f in enumerate(c.decode(stream)):
            frames.append(f.to_ndarray(format="bgr24"))
            if f.key_frame:
                keys.append(i)
    return name, frames, keys


@pytest.mark.parametrize(("codec", "decoder"), [("h264", "h264"), ("hevc", "hevc")])
def test_video_has_every_frame_the_codec_and_a_fixed_gop(
    tmp_path: Path, codec: str, decoder: str
) -> None:
    sc = dataclasses.replace(get_scenario("distractors_only"), duration=4.0)
    path = tmp_path / f"scene_{codec}.mp4"
    truth = write_video(sc, path, codec=codec, gop=8)
    name, frames, keys = _decode(path)
    assert name == decoder and truth.codec == codec and truth.gop == 8
    assert len(frames) == sc.n_frames == 40 and frames[0].shape == (270, 480, 3)
    assert keys == list(range(0, 40, 8))
    # what was encoded is what was rendered, up to compression
    original = next(render(sc, [17]))
    err = np.abs(frames[17].astype(int) - original.astype(int)).mean()
    assert err < 6.0


def test_cli_writes_scene_truth_and_a_config_that_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["synth", "scene", "--list"]) == 0
    assert "camera_shift" in capsys.readouterr().out
    out, gt, cfg = tmp_path / "v.mp4", tmp_path / "gt.json", tmp_path / "site.yaml"
    rc = main(
        ["synth", "scene", "zone_day", "-o", str(out), "--truth", str(gt), "--size", "320x180",
         "--duration", "3", "--config-out", str(cfg)]
    )  # fmt: skip
    assert rc == 0 and "--speed 600" in capsys.readouterr().out
    truth = GroundTruth.from_json(gt)
    assert truth.size == (320, 180) and truth.n_frames == 30
    assert truth.structures[0].cls == "steel_roof_shed"
    assert json.loads(gt.read_text())["structures"][0]["zone"] == "yard"
    _, frames, _ = _decode(out)
    assert len(frames) == 30 and frames[0].shape == (180, 320, 3)
    site = load_site(cfg)
    cam = site.cameras[0]
    assert Path(cam.url) == out and cam.zones[0].id == "yard"
    assert site.detector.confirm_after == truth.confirm_after_scene_s
    assert main(["synth", "scene", "nope", "-o", str(out)]) == 2
    assert main(["synth", "scene", "zone_day", "-o", str(out), "--size", "big"]) == 2

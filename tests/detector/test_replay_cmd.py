"""``sitewatch replay``: JSON lines, evidence folders as docs/evidence.md says, exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from sitewatch.cli import main
from sitewatch.cli.replay_cmd import _Progress
from synth.scene import write_video
from synth.suite import get_scenario

EVIDENCE_FILES = {
    "detection.json",
    "before.jpg",
    "after.jpg",
    "snapshot.jpg",
    "frame.jpg",
    "reference.jpg",
    "clip.mp4",
}
FULL_FRAME = [[0, 0], [1, 0], [1, 1], [0, 1]]
LINE_KEYS = {"camera", "zone", "unit", "bbox", "first_seen_s", "confirmed_s", "score", "label"}


@pytest.fixture(scope="module")
def demolished(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float]:
    """The 'demolished' scene as H.264 with a site config: (video, config, speed)."""
    folder = tmp_path_factory.mktemp("replay")
    scenario = get_scenario("demolished")
    video = folder / "demolished.mp4"
    write_video(scenario, str(video))
    config = folder / "site.yaml"
    site = scenario.site_config(video.name)
    site["cameras"][0]["sample_interval"] = "5m"  # one sample per keyframe
    config.write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    return video, config, scenario.speed


def test_replay_prints_confirmed_and_gone_with_evidence(
    demolished: tuple[Path, Path, float], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    video, config, speed = demolished
    out = tmp_path / "events.jsonl"
    evidence = tmp_path / "evidence"
    argv = ["replay", str(video), "--config", str(config), "--camera", "cam1"]
    argv += ["--speed", str(speed), "--events-out", str(out), "--evidence-dir", str(evidence)]
    argv += ["--reference-dir", str(tmp_path / "state")]  # learn afresh: no earlier run's state
    assert main(argv) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["event"] for e in lines] == ["confirmed", "gone"]
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == lines
    for event in lines:
        assert set(event) >= LINE_KEYS
        assert event["camera"] == "cam1" and event["zone"] == "yard"
        assert len(event["bbox"]) == 4 and event["bbox"][0] < event["bbox"][2]
        folder = Path(event["evidence"])
        assert folder.parent == evidence / "cam1"
        assert folder.name.endswith(f"-yard-{event['id'][:8]}")
        assert {p.name for p in folder.iterdir()} >= EVIDENCE_FILES
        record = json.loads((folder / "detection.json").read_text(encoding="utf-8"))
        assert LINE_KEYS | {"event", "frame_size", "id"} <= set(record)
        assert record["frame_size"] == [480, 270]
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
             str(folder / "clip.mp4")],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert probe.stdout.strip() == "h264"
    assert lines[1]["gone_s"] > lines[0]["confirmed_s"]


def test_replay_errors_exit_2(
    demolished: tuple[Path, Path, float], capsys: pytest.CaptureFixture[str]
) -> None:
    video, config, _ = demolished
    assert main(["replay", str(video), "--config", str(config), "--camera", "nope"]) == 2
    assert "nope" in capsys.readouterr().err
    missing = video.with_name("missing.mp4")
    assert main(["replay", str(missing), "--config", str(config), "--camera", "cam1"]) == 2
    assert "not found" in capsys.readouterr().err
    bad_speed = ["replay", str(video), "--config", str(config), "--camera", "cam1", "--speed", "0"]
    assert main(bad_speed) == 2


def test_progress_bar_draws_on_stderr(
    demolished: tuple[Path, Path, float], capsys: pytest.CaptureFixture[str]
) -> None:
    bar = _Progress(demolished[0], enabled=True)
    bar.update(15.0, 1)
    bar.close()
    err = capsys.readouterr().err
    assert err.startswith("\r[") and "50%" in err and "1 events" in err and err.endswith("\n")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("video", "interval", "confirm", "model"),
    [
        # pedestrians who stop and chat, parked cars (the transient model on)
        ("vtest_480x360.avi", "1s", "20s", True),
        # a bridge with traffic in every frame (no model: the change tracking alone)
        ("car_traffic_small.mp4", "0.5s", "5s", False),
    ],
    ids=["pedestrians", "bridge-traffic"],
)
def test_real_footage_without_a_new_structure_reports_nothing(
    shared_data: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    video: str,
    interval: str,
    confirm: str,
    model: bool,
) -> None:
    path = shared_data / "video" / video
    detector: dict[str, str] = {"confirm_after": confirm}
    if model:
        detector["transient_model"] = str(shared_data / "models" / "yolox_nano_coco_416.onnx")
    site = {
        "cameras": [
            {
                "id": "real",
                "url": str(path),
                "sample_interval": interval,
                "zones": [
                    {
                        "id": "all",
                        "unit": "南屿镇/旗山村",
                        "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]],
                    }
                ],
            }
        ],
        "detector": detector,
    }
    config = tmp_path / "real.yaml"
    config.write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    argv = ["replay", str(path), "--config", str(config), "--camera", "real"]
    argv += ["--reference-dir", str(tmp_path / "state")]
    assert main([*argv, "--evidence-dir", str(tmp_path / "ev")]) == 0
    assert capsys.readouterr().out == ""
    assert not (tmp_path / "ev").exists()

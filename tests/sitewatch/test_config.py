"""The site YAML: every class of error names file, line and key; valid files round-trip."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from sitewatch.cli import main
from sitewatch.config import ConfigError, load_site
from streams.clock import format_duration, parse_duration

ROOT = Path(__file__).resolve().parents[2]

ISSUE_EXAMPLE = """\
cameras:
  - id: cam-1
    url: rtsp://127.0.0.1:8554/cam1     # or a path to a video file
    sample_interval: 10s                # how often a frame is analysed
    zones:
      - id: zone-a
        unit: 南屿镇/旗山村               # reporting unit: town/village
        polygon: [[0.10, 0.40], [0.60, 0.40], [0.60, 0.70], [0.10, 0.70]]  # fractions of width, height
detector:
  confirm_after: 2h                     # a change must stay this long before a case opens
  transient_model: path/to/model.onnx   # optional: a COCO detector whose people/vehicles are ignored
"""  # noqa: E501


def write(tmp_path: Path, text: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    rc = main(["config", "check", str(path)])
    err = capsys.readouterr().err
    return rc, [line for line in err.splitlines() if line]


def test_issue_example_is_accepted_as_written(tmp_path: Path) -> None:
    model = tmp_path / "path" / "to" / "model.onnx"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"onnx")
    site = load_site(write(tmp_path, ISSUE_EXAMPLE))
    cam = site.cameras[0]
    assert cam.sample_interval == 10.0
    assert cam.zones[0].unit == "南屿镇/旗山村"
    assert cam.zones[0].polygon[2] == (0.60, 0.70)
    assert site.detector.confirm_after == 7200.0
    assert site.detector.transient_model == model


def test_unknown_key_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        """\
        cameras:
          - id: cam-1
            url: rtsp://h/1
            colour: red
        """,
    )
    rc, lines = check(path, capsys)
    assert rc == 2
    assert lines[0].startswith(f"{path}:4: cameras[0].colour: unknown key (allowed: ")
    assert "id, url, name, resolution, zones" in lines[0]


def test_wrong_type_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        """\
        cameras:
          - id: cam-1
            url: rtsp://h/1
        api:
          port: eighty
        """,
    )
    rc, lines = check(path, capsys)
    assert rc == 2
    assert lines[0].startswith(f"{path}:5: api.port: ")
    assert lines[0].endswith("expected a whole number, got eighty")


def test_out_of_range_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        cameras:
          - id: cam-1
            url: rtsp://h/1
            sample_interval: 0s
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_site(path)
    (problem,) = err.value.problems
    assert (problem.line, problem.path) == (4, "cameras[0].sample_interval")
    assert "greater than or equal to 0.04" in problem.reason


def test_bad_duration(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        cameras:
          - id: cam-1
            url: rtsp://h/1
        detector:
          confirm_after: two hours
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_site(path)
    (problem,) = err.value.problems
    assert (problem.line, problem.path) == (5, "detector.confirm_after")
    assert "8s, 30m, 2h or 3d" in problem.reason


def test_missing_key_points_at_its_parent(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        cameras:
          - id: cam-1
            url: rtsp://h/1
          - id: cam-2
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_site(path)
    (problem,) = err.value.problems
    assert (problem.line, problem.path) == (4, "cameras[1].url")
    assert problem.reason == "required key is missing"


def test_yaml_syntax_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        """\
        cameras:
          - id: cam-1
            url: rtsp://h/1
            zones: [[0.1, 0.2
        api:
          port: 80
        """,
    )
    rc, lines = check(path, capsys)
    assert rc == 2
    assert lines[0].startswith(f"{path}:5: YAML syntax error")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, lines = check(tmp_path / "nope.yaml", capsys)
    assert rc == 2
    assert lines[0] == f"{tmp_path / 'nope.yaml'}:1: file not found"


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(text)
    rc, lines = check(path, capsys)
    assert rc == 2
    assert lines[0] == f"{path}:1: file is empty: expected a mapping of settings"


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r":1: expected a mapping of settings .*, got a list"):
        load_site(write(tmp_path, "- cam-1\n- cam-2\n"))


def test_duplicate_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        cameras:
          - id: cam-1
            url: rtsp://h/1
            id: cam-2
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_site(path)
    (problem,) = err.value.problems
    assert (problem.line, problem.path, problem.reason) == (4, "cameras[0].id", "duplicate key")


def test_duplicate_camera_and_zone_ids(tmp_path: Path) -> None:
    zone = "{id: z, unit: 镇/村, polygon: [[0, 0], [1, 0], [1, 1]]}"
    path = write(
        tmp_path,
        f"""\
        cameras:
          - id: cam-1
            url: rtsp://h/1
            zones:
              - {zone}
              - {zone}
          - id: cam-1
            url: rtsp://h/2
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_site(path)
    found = {(p.line, p.path) for p in err.value.problems}
    assert found == {(6, "cameras[0].zones[1].id"), (7, "cameras[1].id")}


def test_every_problem_is_reported_in_line_order(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        cameras:
          - id: cam 1
            url: ftp://h/1
            read_timeout: 1h
        database:
          url: oracle://x
        storage:
          evidence: /tmp
        """,
    )
    with pytest.raises(ConfigError) as err:
        load_site(path)
    got = [(p.line, p.path) for p in err.value.problems]
    assert got == [
        (2, "cameras[0].id"),
        (3, "cameras[0].url"),
        (4, "cameras[0].read_timeout"),
        (6, "database.url"),
        (8, "storage.evidence"),
    ]


def test_cli_prints_no_traceback_and_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, "cameras: 3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sitewatch", "config", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"{path}:1: cameras: ")


def test_example_config_is_valid_and_round_trips(tmp_path: Path) -> None:
    example = ROOT / "configs" / "example.yaml"
    assert main(["config", "check", "--quiet", str(example)]) == 0
    site = load_site(example)
    dumped = site.model_dump(mode="json", exclude_none=True)
    again = load_site(write(tmp_path, yaml.safe_dump(dumped, allow_unicode=True)))
    assert again == site


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("8s", 8.0), ("30m", 1800.0), ("2h", 7200.0), ("3d", 259200.0), ("250ms", 0.25), (12, 12.0)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("bad", ["", "2 hours", "-1s", "h", True, None, [1]])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="expected a duration"):
        parse_duration(bad)

"""One convention for every command: exit 0/1/2, ``sitewatch COMMAND:`` messages, checked args."""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from sitewatch.cli import build_parser, main
from streams.testvideo import make_test_video

ZONE = "[[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]"


def site(folder: Path, url: str, extra: str = "") -> Path:
    path = folder / "site.yaml"
    text = f"""\
        cameras:
          - id: cam-1
            url: {url}
            sample_interval: 1s
            zones:
              - {{id: yard, unit: 南屿镇/旗山村, polygon: {ZONE}}}
        """
    path.write_text(textwrap.dedent(text) + extra, encoding="utf-8")
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_test_video(tmp_path_factory.mktemp("v") / "v.mkv", seconds=6, fps=10)


def test_config_check_takes_several_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = site(tmp_path, "rtsp://127.0.0.1/cam1")
    bad = tmp_path / "bad.yaml"
    bad.write_text("cameras:\n  - id: c\n    url: rtsp://h/1\n    port: 1\n", encoding="utf-8")
    rc, out, err = run(
        ["config", "check", str(good), str(bad), str(tmp_path / "none.yaml")], capsys
    )
    assert rc == 2
    assert out == f"{good}: OK (1 cameras, 1 zones)\n"
    assert err.splitlines() == [
        f"{bad}:4: cameras[0].port: unknown key: did you mean 'transport'?",
        f"{tmp_path / 'none.yaml'}:1: file not found",
    ]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["snapshot", "rtsp://h/x", "-o", "out.txt"], "argument -o/--output: must end in .jpg"),
        (["clip", "rtsp://h/x", "--seconds", "2", "-o", "c.jpg"], "must end in .mp4"),
        (["snapshot", "rtsp://h/x", "-o", "o.jpg", "--timeout", "soon"], "argument --timeout"),
        (["snapshot", "rtsp://h/x", "-o", "o.jpg", "--timeout", "nan"], "argument --timeout"),
        (["snapshot", "rtsp://h/x", "-o", "o.jpg", "--timeout", "-1"], "argument --timeout"),
        (["clip", "x.mp4", "--seconds", "inf", "-o", "c.mp4"], "argument --seconds"),
        (["detect", "IMG", "--save", "boxes.txt"], "must end in .jpg"),
        (["detect", "IMG", "--model", "DIR"], "is a folder, not a file"),
        (["detect", "IMG", "--conf", "nan"], "argument --conf: must be in [0, 1]"),
        (["zones", "preview", "--config", "CFG", "--camera", "cam-1", "-o", "z.gif"], ".png"),
        (["zones", "preview", "--config", "CFG", "--camera", "c", "--box", "nan,0,1,1"], "--box"),
        (["zones", "preview", "--config", "CFG", "--camera", "c", "--box", "5,5,1,1"], "X1 < X2"),
        (["zones", "preview", "--config", "CFG", "--camera", "c", "--box", "1,2,3"], "--box"),
        (["replay", "V", "--config", "CFG", "--camera", "cam-1", "--speed", "inf"], "--speed"),
        (["replay", "V", "--config", "CFG", "--camera", "cam-1", "--speed", "0"], "--speed"),
        (["replay", "V", "--config", "CFG", "--camera", "cam-1", "--speed", "nan"], "--speed"),
        (["simulate", "V", "--port", "70000"], "argument --port"),
        (["simulate", "V", "--host", "not a host"], "is not a host"),
    ],
)
def test_bad_arguments_exit_2_where_they_are_parsed(
    argv: list[str], says: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], video: Path
) -> None:
    image = tmp_path / "img.png"
    image.write_bytes(b"not really")
    names = {"IMG": str(image), "DIR": str(tmp_path), "V": str(video)}
    names["CFG"] = str(site(tmp_path, str(video)))
    argv = [names.get(a, a) for a in argv]
    rc, _, err = run(argv, capsys)
    command = " ".join(a for a in argv[:2] if a in {"zones", "preview"}) or argv[0]
    assert rc == 2, err
    assert err.startswith(f"sitewatch {command}: "), err
    assert says in err
    assert "Traceback" not in err


def test_runtime_failures_exit_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00" * 4096)
    rc, _, err = run(["snapshot", str(junk), "-o", str(tmp_path / "x.jpg")], capsys)
    assert rc == 1 and err.startswith("sitewatch snapshot: ") and str(junk) in err
    not_image = tmp_path / "x.png"
    not_image.write_bytes(b"nope")
    rc, _, err = run(["detect", str(not_image)], capsys)
    assert rc == 1 and err.startswith(f"sitewatch detect: {not_image}: not a readable image")


def test_bad_input_files_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(["snapshot", str(tmp_path / "none.mp4"), "-o", "x.jpg"], capsys)
    assert rc == 2 and err.startswith("sitewatch snapshot: video file") and "none.mp4" in err
    rc, _, err = run(["replay", "--config", str(tmp_path / "none.yaml"), "--camera", "c"], capsys)
    assert (rc, err) == (2, f"{tmp_path / 'none.yaml'}:1: file not found\n")
    rc, _, err = run(["snapshot", "rtsp:///nohost", "-o", "x.jpg"], capsys)
    assert rc == 2 and "has no host" in err


def test_timeouts_take_durations() -> None:
    parser = build_parser()
    args = parser.parse_args(["snapshot", "rtsp://h/x", "-o", "x.jpg", "--timeout", "2m"])
    assert args.timeout == 120.0
    args = parser.parse_args(["snapshot", "rtsp://h/x", "-o", "x.jpg", "--timeout", "2.5"])
    assert args.timeout == 2.5


def _all_parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found += _all_parsers(sub)
    return found


def test_every_help_shows_the_defaults() -> None:
    missing = []
    for parser in _all_parsers(build_parser()):
        formatter = parser._get_formatter()
        for action in parser._actions:
            if action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
                continue
            text = formatter._expand_help(action) if action.help else ""
            if "default" not in text.lower():
                missing.append(f"{parser.prog} {action.option_strings[0]}")
    assert not missing, missing


# commands being written now by others; they are to follow the same vocabulary
PENDING_VOCABULARY = {"sitewatch worker"}


def test_output_options_are_spelt_one_way() -> None:
    for parser in _all_parsers(build_parser()):
        options = {s for a in parser._actions for s in a.option_strings}
        if parser.prog in PENDING_VOCABULARY:
            continue
        if any(o in options for o in ("--save", "--out", "--events-out")):
            assert "-o" in options and "--output" in options, parser.prog
        if "--names" in options and parser.prog != "sitewatch simulate":  # there: mount names
            assert "--classes" in options, parser.prog


def test_output_into_a_closed_pipe_ends_quietly() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sitewatch", "config", "reference"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like ``| head`` that has read enough
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=30) == 0
    assert err == ""


def test_replay_of_a_truncated_file_fails_unless_allowed(
    video: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = tmp_path / "cut.mkv"
    data = video.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    config = site(tmp_path, cut.name)
    argv = ["replay", "--config", str(config), "--camera", "cam-1"]  # the video: the camera's url
    rc, _, err = run(argv, capsys)
    assert rc == 1
    assert err.startswith(f"sitewatch replay: {cut}: decoding stopped at ")
    assert "of 6.0 s" in err and "skipped" in err and "--allow-truncated" in err
    rc, _, err = run([*argv, "--allow-truncated"], capsys)
    assert rc == 0 and "warning" in err and "decoding stopped" in err


def test_replay_uses_the_camera_url_and_the_storage_folders(
    video: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = "detector:\n  warmup_samples: 2\nstorage:\n  reference_dir: refs\n"
    config = site(tmp_path, str(video), extra)
    rc, _, err = run(["replay", "--config", str(config), "--camera", "cam-1"], capsys)
    assert rc == 0, err
    assert (tmp_path / "refs" / "cam-1" / "reference.json").is_file()
    live = site(tmp_path, "rtsp://127.0.0.1/cam1")
    rc, _, err = run(["replay", "--config", str(live), "--camera", "cam-1"], capsys)
    assert rc == 2 and "is a live stream" in err and "give VIDEO" in err

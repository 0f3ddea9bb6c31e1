"""``sitewatch synth scene NAME -o out.mp4``: write one synthetic test scene and its truth."""

from __future__ import annotations

import argparse
from pathlib import Path

from sitewatch.cli.common import CommandError, int_arg, number_arg


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "synth", help="write a synthetic camera scene (sitewatch synth scene NAME)"
    )
    inner = parser.add_subparsers(dest="synth_command", metavar="ACTION", required=True)
    scene = inner.add_parser(
        "scene", help="render a named scene of the standard suite to an MP4 (or --list them)"
    )
    scene.add_argument("name", nargs="?", metavar="NAME", help="scene name (see --list)")
    scene.add_argument("--list", action="store_true", help="list the scenes and exit")
    scene.add_argument("-o", "--output", type=Path, help="MP4 file to write")
    scene.add_argument("--truth", type=Path, help="also write the ground truth as JSON here")
    scene.add_argument(
        "--config-out", type=Path, help="also write a site YAML that replays the video"
    )
    scene.add_argument("--size", default=None, help="frame size WxH, e.g. 1920x1080")
    scene.add_argument("--codec", choices=("h264", "hevc"), default="h264", help="video codec")
    scene.add_argument(
        "--gop", type=int_arg(1, 10000), default=None, help="keyframe interval in frames"
    )
    scene.add_argument(
        "--preset", default="veryfast", help="x264/x265 preset (ultrafast for big files)"
    )
    scene.add_argument(
        "--duration",
        type=number_arg(0, 86400, low_open=True),
        default=None,
        help="video seconds (longer/shorter)",
    )
    scene.set_defaults(func=run_scene)


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size must look like 1920x1080, got {text!r}") from None
    return w, h


def run_scene(args: argparse.Namespace) -> int:
    import dataclasses

    from synth.suite import get_scenario, standard_suite

    if args.list:
        for sc in standard_suite():
            hours = sc.scene_duration / 3600
            print(f"{sc.name:22s} {sc.n_frames} frames, {hours:.1f} h  {sc.description}")
        return 0
    if not args.name or args.output is None:
        raise CommandError("give NAME and -o OUT.mp4 (or --list)")
    try:
        sc = get_scenario(args.name, _size(args.size) if args.size else None)
        if args.duration is not None:
            sc = dataclasses.replace(sc, duration=args.duration)
    except (KeyError, ValueError) as exc:
        raise CommandError(str(exc.args[0])) from None
    from synth.scene import write_video

    for path in (args.output, args.truth, args.config_out):
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    truth = write_video(sc, args.output, codec=args.codec, gop=args.gop, preset=args.preset)
    if args.truth is not None:
        truth.to_json(args.truth)
    if args.config_out is not None:
        _write_config(sc, args.output, args.config_out)
    n = sum(s.expected_report for s in truth.structures)
    print(
        f"{args.output}: {sc.n_frames} frames {sc.size[0]}x{sc.size[1]} {args.codec}, "
        f"replay with --speed {sc.speed:g}; {n} structure(s) to report"
    )
    return 0


def _write_config(sc: object, video: Path, out: Path) -> None:
    import os

    import yaml

    from synth.scene import Scenario

    assert isinstance(sc, Scenario)
    rel = os.path.relpath(video.resolve(), out.resolve().parent)
    out.write_text(
        "# written by sitewatch synth scene; replay with --speed "
        f"{sc.speed:g}\n"
        + yaml.safe_dump(sc.site_config(rel), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )

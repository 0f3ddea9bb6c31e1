"""``sitewatch replay VIDEO --config FILE --camera ID``: run a camera's pipeline over a file.

Stream time is video time × ``--speed``, so four hours of footage sampled once every
two minutes can stand for days: the camera's ``sample_interval`` and the detector's
``confirm_after`` are both in stream time. One JSON line per event goes to stdout
(and to ``--events-out``); a progress bar goes to stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from detector.pipeline import CameraPipeline
    from sitewatch.config import CameraConfig, SiteConfig


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "replay", help="run the detector over a video file; one JSON line per event"
    )
    parser.add_argument("video", type=Path, metavar="VIDEO", help="video file to replay")
    parser.add_argument("--config", required=True, type=Path, help="site YAML")
    parser.add_argument("--camera", required=True, help="camera id in the config")
    parser.add_argument(
        "--speed",
        type=float,
        default=1.0,
        help="stream seconds per video second (3000: each frame of a 25 fps video is 2 min)",
    )
    parser.add_argument("--events-out", type=Path, help="also write the JSON lines to this file")
    parser.add_argument("--evidence-dir", type=Path, help="write evidence folders here")
    parser.add_argument(
        "--reference-dir",
        type=Path,
        help="keep references here across runs (default: learn afresh, keep nothing)",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar even on a terminal"
    )
    parser.set_defaults(func=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    from sitewatch.cli.common import CommandError, camera_or_fail, load_site_or_fail

    if not args.speed > 0:
        print(f"replay: --speed must be > 0, got {args.speed}", file=sys.stderr)
        return 2
    if not args.video.is_file():
        print(f"replay: video not found: {args.video}", file=sys.stderr)
        return 2
    try:
        site = load_site_or_fail(args.config)
        cam = camera_or_fail(site, args.camera)
    except CommandError as exc:
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    out = args.events_out.open("w", encoding="utf-8") if args.events_out else None
    try:
        return _replay(args, site, cam, out)
    finally:
        if out is not None:
            out.close()


def _replay(
    args: argparse.Namespace, site: SiteConfig, cam: CameraConfig, out: IO[str] | None
) -> int:
    from detector.backends import ModelLoadError
    from sitewatch.wiring import build_pipeline
    from streams import SourceError, StreamSettings, open_source

    fields = {k: getattr(cam, k) for k in StreamSettings.model_fields}
    fields["sample_interval"] = max(0.04, cam.sample_interval / args.speed)
    stream = StreamSettings.model_validate(fields)
    bar = _Progress(args.video, enabled=sys.stderr.isatty() and not args.no_progress)
    events = 0
    try:
        with open_source(str(args.video), stream) as src:
            pipe = build_pipeline(
                site,
                cam,
                evidence_dir=args.evidence_dir,
                reference_dir=args.reference_dir,
                ring=src.ring,
            )
            with pipe:
                events = _run(src, pipe, args.speed, bar, out)
    except ModelLoadError as exc:
        bar.close()
        print(f"replay: {exc}", file=sys.stderr)
        return 2
    except SourceError as exc:
        bar.close()
        print(f"replay: {exc}", file=sys.stderr)
        return 1
    bar.close()
    if bar.enabled:
        print(f"replay: {events} events", file=sys.stderr)
    return 0


def _run(src: Any, pipe: CameraPipeline, speed: float, bar: _Progress, out: IO[str] | None) -> int:
    """Feed every sampled frame to the pipeline; print its events; return how many."""
    from detector.reporting import event_json

    events = 0
    for frame in src.frames():
        found = pipe.process(frame.image, frame.pts * speed, wall=frame.wall, pts=frame.pts)
        for record in event_json(found):
            line = json.dumps(record, ensure_ascii=False)
            print(line, flush=True)
            if out is not None:
                out.write(line + "\n")
            events += 1
        bar.update(frame.pts, events)
    return events


class _Progress:
    """A one-line progress bar on stderr (video seconds done of the file's duration)."""

    def __init__(self, video: Path, *, enabled: bool) -> None:
        self.enabled = enabled
        self.total = _duration(video) if enabled else None

    def update(self, pts: float, events: int) -> None:
        if not self.enabled:
            return
        if self.total:
            frac = min(1.0, pts / self.total)
            filled = int(frac * 30)
            bar = "#" * filled + "-" * (30 - filled)
            text = f"\r[{bar}] {frac:4.0%} {pts:7.1f}/{self.total:.1f} s  {events} events"
        else:
            text = f"\r{pts:7.1f} s  {events} events"
        sys.stderr.write(text)
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _duration(video: Path) -> float | None:
    import av

    try:
        with av.open(str(video)) as container:
            if container.duration:
                return float(container.duration) / 1e6
            stream = container.streams.video[0]
            if stream.duration and stream.time_base:
                return float(stream.duration * stream.time_base)
    except (av.FFmpegError, IndexError):
        return None
    return None

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

from sitewatch.cli.common import CommandError, CommandFailed, number_arg

if TYPE_CHECKING:
    from detector.pipeline import CameraPipeline
    from sitewatch.config import CameraConfig, SiteConfig


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "replay", help="run the detector over a video file; one JSON line per event"
    )
    parser.add_argument(
        "video",
        type=Path,
        nargs="?",
        metavar="VIDEO",
        help="video file to replay (default: the camera's url, when it is a file)",
    )
    parser.add_argument("--config", required=True, type=Path, metavar="FILE", help="site YAML")
    parser.add_argument("--camera", required=True, metavar="ID", help="camera id in the config")
    parser.add_argument(
        "--speed",
        type=number_arg(0, 1e6, low_open=True),
        default=1.0,
        metavar="X",
        help="stream seconds per video second (3000: each frame of a 25 fps video is 2 min)",
    )
    parser.add_argument(
        "-o",
        "--output",
        "--events-out",
        dest="events_out",
        type=Path,
        metavar="OUT",
        help="also write the JSON lines to this file",
    )
    parser.add_argument(
        "--evidence-dir",
        type=Path,
        metavar="DIR",
        help="write evidence folders here (default: storage.evidence_dir)",
    )
    parser.add_argument(
        "--reference-dir",
        type=Path,
        metavar="DIR",
        help="keep references here across runs (default: storage.reference_dir)",
    )
    parser.add_argument(
        "--allow-truncated",
        action="store_true",
        help="exit 0 even when the video ends before its stated duration or fails to decode",
    )
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bar even on a terminal"
    )
    parser.set_defaults(func=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    from sitewatch.cli.common import camera_or_fail, load_site_or_fail

    site = load_site_or_fail(args.config)
    cam = camera_or_fail(site, args.camera)
    if args.video is None:
        if "://" in cam.url:
            raise CommandError(f"camera {cam.id!r} is a live stream ({cam.url}): give VIDEO")
        args.video = Path(cam.url)
    if not args.video.is_file():
        raise CommandError(f"video not found: {args.video}")
    if args.evidence_dir is None:
        args.evidence_dir = site.storage.evidence_dir
    if args.reference_dir is None:
        args.reference_dir = site.storage.reference_dir
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
        raise CommandError(str(exc)) from None
    except SourceError as exc:
        bar.close()
        raise CommandFailed(str(exc)) from None
    bar.close()
    if bar.enabled:
        print(f"sitewatch replay: {events} events", file=sys.stderr)
    short = truncation(args.video, src.status, src.ring.span())
    if short is None:
        return 0
    if args.allow_truncated:
        print(f"sitewatch replay: warning: {short} (--allow-truncated)", file=sys.stderr)
        return 0
    raise CommandFailed(f"{short}; pass --allow-truncated to accept it")


def truncation(video: Path, status: Any, span: tuple[float, float] | None) -> str | None:
    """Why the replay of ``video`` did not cover all of it (None when it did)."""
    reason = str(status.last_error or "")
    if status.corrupt:
        return f"{video}: {status.corrupt} packets failed to decode ({reason})"
    if reason.startswith("read error"):
        return f"{video}: stopped early: {reason}"
    stated = _duration(video)
    reached = span[1] if span is not None else 0.0
    if stated is not None and reached < stated - max(1.0, 0.05 * stated):
        skipped = stated - reached
        return (
            f"{video}: decoding stopped at {reached:.1f} s of {stated:.1f} s "
            f"({skipped:.1f} s skipped: truncated file?)"
        )
    return None


def _run(src: Any, pipe: CameraPipeline, speed: float, bar: _Progress, out: IO[str] | None) -> int:
    """Feed every sampled frame to the pipeline; print its events; return how many."""
    from detector.events import event_json
    from detector.replay import replay

    events = 0
    for step in replay(src.frames(), pipe, speed):  # the loop the evaluation runs too
        for record in event_json(step.events):
            line = json.dumps(record, ensure_ascii=False)
            print(line, flush=True)
            if out is not None:
                out.write(line + "\n")
            events += 1
        bar.update(step.frame.pts, events)
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

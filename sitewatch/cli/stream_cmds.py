"""``sitewatch snapshot URL -o out.jpg`` and ``sitewatch clip URL --seconds N -o out.mp4``."""

from __future__ import annotations

import argparse
import threading
from typing import Any

from sitewatch.cli.common import (
    IMAGE_SUFFIXES,
    VIDEO_SUFFIXES,
    CommandFailed,
    check_source,
    duration_arg,
    output_arg,
)


def _add_stream_options(parser: argparse.ArgumentParser, suffixes: tuple[str, ...]) -> None:
    parser.add_argument("url", metavar="URL", help="rtsp:// URL or video file")
    parser.add_argument(
        "-o",
        "--output",
        type=output_arg(suffixes),
        required=True,
        metavar="OUT",
        help=f"file to write ({', '.join(suffixes)})",
    )
    parser.add_argument("--transport", choices=("tcp", "udp"), default="tcp", help="RTSP transport")
    parser.add_argument(
        "--timeout",
        type=duration_arg,
        default=30.0,
        metavar="T",
        help="give up after this long: seconds or a duration such as 10s",
    )


def register(sub: argparse._SubParsersAction) -> None:
    snap = sub.add_parser("snapshot", help="write one decoded frame of a camera or video to a JPEG")
    _add_stream_options(snap, IMAGE_SUFFIXES)
    snap.set_defaults(func=run_snapshot)
    clip = sub.add_parser(
        "clip", help="record N seconds of a camera or video to MP4 without re-encoding"
    )
    _add_stream_options(clip, VIDEO_SUFFIXES)
    clip.add_argument(
        "--seconds",
        type=duration_arg,
        required=True,
        metavar="T",
        help="length of the clip: seconds or a duration such as 1m (at most 1h)",
    )
    clip.set_defaults(func=run_clip)


def _open(args: argparse.Namespace, **settings: Any) -> Any:
    from streams import StreamSettings, open_source

    url = check_source(args.url, timeout=min(3.0, args.timeout))
    open_timeout = max(0.5, min(300.0, args.timeout))
    cfg = StreamSettings(transport=args.transport, open_timeout=open_timeout, **settings)
    return open_source(url, cfg)


def _deadline(seconds: float) -> tuple[threading.Event, threading.Timer]:
    stop = threading.Event()
    timer = threading.Timer(seconds, stop.set)
    timer.daemon = True
    timer.start()
    return stop, timer


def run_snapshot(args: argparse.Namespace) -> int:
    import cv2

    from streams import SourceError

    stop, timer = _deadline(args.timeout)
    try:
        with _open(args, sample_interval=0.04) as source:
            frame = next(source.frames(stop), None)
            status = source.status
    except SourceError as exc:
        raise CommandFailed(str(exc)) from None
    finally:
        timer.cancel()
    if frame is None:
        why = status.last_error or "no frame"
        raise CommandFailed(f"{args.url}: no frame within {args.timeout:g} s ({why})")
    if not cv2.imwrite(str(args.output), frame.image):
        raise CommandFailed(f"cannot write {args.output}")
    h, w = frame.image.shape[:2]
    print(f"{args.output}: {w}x{h} frame at {frame.pts:.2f} s")
    return 0


def run_clip(args: argparse.Namespace) -> int:
    from sitewatch.cli.common import CommandError
    from streams import SourceError
    from streams.ring import RingPacket, write_clip

    if args.seconds > 3600:
        raise CommandError(f"--seconds must be at most 1h, got {args.seconds:g} s")
    stop, timer = _deadline(args.timeout + args.seconds)
    packets: list[RingPacket] = []
    try:
        with _open(args) as source:
            for packet in source.packets(stop):
                if packets and packet.template is not packets[0].template:
                    packets.clear()  # reconnected: start again at the new connection's keyframe
                if not packets and not packet.keyframe:
                    continue
                if packets and packet.pts - packets[0].pts >= args.seconds:
                    break
                packets.append(packet)
            status = source.status
    except SourceError as exc:
        raise CommandFailed(str(exc)) from None
    finally:
        timer.cancel()
    if not packets:
        why = status.last_error or "no keyframe"
        raise CommandFailed(f"{args.url}: nothing recorded within {args.timeout:g} s ({why})")
    write_clip(packets, args.output)
    span = packets[-1].pts - packets[0].pts
    codec = packets[0].template.codec
    print(f"{args.output}: {codec}, {len(packets)} packets, {span:.2f} s (no re-encode)")
    return 0

"""``sitewatch snapshot URL -o out.jpg`` and ``sitewatch clip URL --seconds N -o out.mp4``."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path
from typing import Any


def _add_stream_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", metavar="URL", help="rtsp:// URL or video file")
    parser.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    parser.add_argument(
        "--transport", choices=("tcp", "udp"), default="tcp", help="RTSP transport (tcp)"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="give up after this many seconds (30)"
    )


def register(sub: argparse._SubParsersAction) -> None:
    snap = sub.add_parser("snapshot", help="write one decoded frame of a camera or video to a JPEG")
    _add_stream_options(snap)
    snap.set_defaults(func=run_snapshot)
    clip = sub.add_parser(
        "clip", help="record N seconds of a camera or video to MP4 without re-encoding"
    )
    _add_stream_options(clip)
    clip.add_argument("--seconds", type=float, required=True, help="length of the clip")
    clip.set_defaults(func=run_clip)


def _open(args: argparse.Namespace, **settings: Any) -> Any:
    from streams import StreamSettings, open_source

    cfg = StreamSettings(transport=args.transport, **settings)
    return open_source(args.url, cfg)


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
        print(f"sitewatch snapshot: {exc}", file=sys.stderr)
        return 1
    finally:
        timer.cancel()
    if frame is None:
        why = status.last_error or "no frame"
        print(f"sitewatch snapshot: no frame within {args.timeout:g} s ({why})", file=sys.stderr)
        return 1
    if not cv2.imwrite(str(args.output), frame.image):
        print(f"sitewatch snapshot: cannot write {args.output}", file=sys.stderr)
        return 1
    h, w = frame.image.shape[:2]
    print(f"{args.output}: {w}x{h} frame at {frame.pts:.2f} s")
    return 0


def run_clip(args: argparse.Namespace) -> int:
    from streams import SourceError
    from streams.ring import RingPacket, write_clip

    if not 0 < args.seconds <= 3600:
        msg = f"--seconds must be in (0, 3600], got {args.seconds:g}"
        print(f"sitewatch clip: {msg}", file=sys.stderr)
        return 2
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
        print(f"sitewatch clip: {exc}", file=sys.stderr)
        return 1
    finally:
        timer.cancel()
    if not packets:
        why = status.last_error or "no keyframe"
        msg = f"nothing recorded within {args.timeout:g} s ({why})"
        print(f"sitewatch clip: {msg}", file=sys.stderr)
        return 1
    write_clip(packets, args.output)
    span = packets[-1].pts - packets[0].pts
    codec = packets[0].template.codec
    print(f"{args.output}: {codec}, {len(packets)} packets, {span:.2f} s (no re-encode)")
    return 0

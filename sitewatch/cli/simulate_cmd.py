"""``sitewatch simulate VIDEO [VIDEO...] --port 8554``: video files as looping RTSP cameras."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from sitewatch.cli.common import CommandError, CommandFailed, host_arg, int_arg


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "simulate",
        help="serve video files as looping RTSP cameras and print their URLs",
        description="Serve each VIDEO as rtsp://HOST:PORT/camN, looping forever, until Ctrl-C. "
        "H.264 and H.265 are served as they are; other codecs are transcoded to H.264 first.",
    )
    parser.add_argument("videos", nargs="+", type=Path, metavar="VIDEO", help="video files")
    parser.add_argument("--port", type=int_arg(1, 65535), default=8554, help="RTSP port")
    parser.add_argument("--host", type=host_arg, default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--names", help="comma-separated mount names, one per video (default cam0,cam1,…)"
    )
    parser.set_defaults(func=run_simulate)


def run_simulate(args: argparse.Namespace) -> int:
    from streams.simulator import Simulator, SimulatorError

    names = args.names.split(",") if args.names else None
    try:
        sim = Simulator(args.videos, args.port, host=args.host, names=names)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        sim.start()
    except SimulatorError as exc:
        raise CommandFailed(str(exc)) from None
    try:
        for video, url in zip(sim.videos, sim.urls, strict=True):
            print(f"{url}\t{video}", flush=True)
        print("serving; Ctrl-C to stop", file=sys.stderr, flush=True)
        while not done.wait(0.5):
            if sim.pid is None:
                break
    except KeyboardInterrupt:
        pass
    finally:
        sim.stop()
    return 0

"""``sitewatch worker --config FILE [--camera ID ...] [--events-out F.jsonl]``: run the cameras.

Every configured camera (or those named) in one process: events go to the outbox and
on to the API (``worker.api_url``), MQTT and webhooks; with ``--events-out`` one JSON
line per event is also appended to that file (the stand-alone mode when no API is set).
SIGTERM or SIGINT stops it within a few seconds, references saved. See docs/worker.md.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from sitewatch.cli.common import CommandError, number_arg


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "worker", help="run every camera of the config: detect, record, deliver (outbox)"
    )
    parser.add_argument("--config", required=True, type=Path, metavar="FILE", help="site YAML")
    parser.add_argument(
        "--camera",
        action="append",
        metavar="ID",
        help="run only this camera (repeat for several; default: all of them)",
    )
    parser.add_argument(
        "--events-out",
        type=Path,
        metavar="F.jsonl",
        help="also append one JSON line per event to this file",
    )
    parser.add_argument(
        "--speed",
        type=number_arg(0, 1e6, low_open=True),
        default=1.0,
        help="stream seconds per video second, for simulated cameras serving a scene "
        "rendered faster than real time (as in sitewatch replay); 1 for real cameras",
    )
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning", "error"],
        default="info",
        help="what goes to stderr",
    )
    parser.set_defaults(func=run_worker)


def run_worker(args: argparse.Namespace) -> int:
    from detector.backends import ModelLoadError
    from sitewatch.cli.common import load_site_or_fail
    from sitewatch.worker import build_worker

    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    site = load_site_or_fail(args.config)
    outputs = site.worker.api_url or site.worker.mqtt or site.worker.webhooks
    if not outputs and args.events_out is None:
        raise CommandError(
            "nowhere to send events: set worker.api_url, worker.mqtt or worker.webhooks "
            "in the config, or give --events-out"
        )
    try:
        worker = build_worker(
            site, cameras=args.camera, events_out=args.events_out, speed=args.speed
        )
    except KeyError as exc:
        raise CommandError(str(exc.args[0])) from None
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logging.getLogger(__name__).info("%s: stopping", signal.Signals(signum).name)
        stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        worker.run(stop)
    except ModelLoadError as exc:
        raise CommandError(str(exc)) from None
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
    return 0

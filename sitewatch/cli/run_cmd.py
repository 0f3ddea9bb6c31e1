"""``sitewatch run``: API, pages, worker and the embedded database in one command."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType

from sitewatch.cli.common import CommandError, load_site_or_fail


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="API, web pages, worker and database in one process")
    p.add_argument("--config", required=True, metavar="FILE", help="site YAML")
    p.add_argument(
        "--speed",
        type=float,
        default=1.0,
        metavar="X",
        help="stream time × X, for simulated cameras rendered faster than real "
        "time (default: %(default)s)",
    )
    p.add_argument(
        "--exit-on-case",
        action="store_true",
        help="exit 0 once the first case is open, printing 'case opened: URL'",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sitewatch.embedded import Embedded

    if not 0 < args.speed <= 1e6:
        raise CommandError(f"--speed must be in (0, 1e6], got {args.speed}")
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    site = load_site_or_fail(args.config)
    app = Embedded(site, speed=args.speed)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    old = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        started = app.start()
        print(
            f"sitewatch run: serving {started.url} (API /api/v1, docs /docs, pages /)", flush=True
        )
        if started.admin_password:
            print(f"first admin: admin / {started.admin_password} (shown once)", flush=True)
        print(f"sitewatch run: watching {len(site.cameras)} camera(s); Ctrl-C stops", flush=True)
        while not stop.wait(0.5):
            if args.exit_on_case and (case := app.first_case()) is not None:
                public = app.services.settings.public_url
                print(f"case opened: {public}/cases/{case}", flush=True)
                break
    finally:
        app.stop()
        for signum, handler in old.items():
            signal.signal(signum, handler)
    return 0

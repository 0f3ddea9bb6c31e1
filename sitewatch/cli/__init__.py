"""The ``sitewatch`` command line: one module per command (group), each with ``register``.

A command module defines ``register(sub: argparse._SubParsersAction) -> None`` that
adds its parser with ``help=`` (one line, shown by ``sitewatch --help``) and sets
``func`` to a callable taking the parsed ``argparse.Namespace`` and returning the
exit status. Heavy imports (av, torch, onnxruntime) happen inside ``func`` so that
``sitewatch --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Order is the order in ``sitewatch --help``.
COMMAND_MODULES = [
    "sitewatch.cli.config_cmd",
    "sitewatch.cli.simulate_cmd",
    "sitewatch.cli.stream_cmds",
    "sitewatch.cli.zones_cmd",
    "sitewatch.cli.model_cmds",
    "sitewatch.cli.synth_cmd",
    "sitewatch.cli.replay_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sitewatch",
        description="Watch construction hotspots on existing cameras; open cases with evidence.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"sitewatch {version('sitewatch')}"
    except PackageNotFoundError:
        return "sitewatch (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # missing files, unreachable cameras, full disks: no traceback
        print(f"sitewatch {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

"""The ``sitewatch`` command line: one module per command (group), each with ``register``.

A command module defines ``register(sub: argparse._SubParsersAction) -> None`` that
adds its parser with ``help=`` (one line, shown by ``sitewatch --help``) and sets
``func`` to a callable taking the parsed ``argparse.Namespace`` and returning the
exit status. Heavy imports (av, torch, onnxruntime) happen inside ``func`` so that
``sitewatch --help`` stays instant.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
from collections.abc import Sequence

# NumPy's OpenBLAS starts one thread per core when it is imported, and they spin: 0.15 s
# of CPU per command on two cores, for the 3×3 systems the detector solves, and threads
# that compete with the decoders of a worker's cameras. sitewatch's commands run one BLAS
# thread unless the environment sets another number (read once, when NumPy loads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# Order is the order in ``sitewatch --help``.
COMMAND_MODULES = [
    "sitewatch.cli.config_cmd",
    "sitewatch.cli.simulate_cmd",
    "sitewatch.cli.stream_cmds",
    "sitewatch.cli.zones_cmd",
    "sitewatch.cli.model_cmds",
    "sitewatch.cli.synth_cmd",
    "sitewatch.cli.replay_cmd",
    "sitewatch.cli.worker_cmd",
    "sitewatch.cli.db_cmd",
    "sitewatch.cli.api_cmd",
    "sitewatch.cli.notify_cmd",
    "sitewatch.cli.run_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    from sitewatch.cli.common import Parser

    parser = Parser(
        prog="sitewatch",
        description="Watch construction hotspots on existing cameras; open cases with evidence.",
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """One parser per process (building it imports every command module: ~10 ms)."""
    return build_parser()


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"sitewatch {version('sitewatch')}"
    except PackageNotFoundError:
        return "sitewatch (not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; exit codes and messages follow ``sitewatch.cli.common``."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad argument (already printed)
        return exc.code if isinstance(exc.code, int) else 2
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        status = int(func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not as a message at exit
        return status
    except BrokenPipeError:  # ``sitewatch … | head``: the reader has all it wanted
        _silence_stdout()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return _report(args, exc)


def _report(args: argparse.Namespace, exc: Exception) -> int:
    from sitewatch.cli.common import CommandError, CommandFailed, command_name
    from sitewatch.config import ConfigError

    name = command_name(args)
    if isinstance(exc, ConfigError):
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 2
    if isinstance(exc, CommandError):
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    if isinstance(exc, CommandFailed | OSError):  # missing files, unreachable cameras, full disks
        print(f"{name}: {exc}", file=sys.stderr)
        return 1
    if os.environ.get("SITEWATCH_DEBUG"):
        raise exc
    print(
        f"{name}: internal error: {type(exc).__name__}: {exc} "
        "(a bug: please report it; SITEWATCH_DEBUG=1 shows the traceback)",
        file=sys.stderr,
    )
    return 1


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    sys.exit(main())

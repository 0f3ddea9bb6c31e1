"""What every command shares: exit codes, errors, argument types, loading the site config.

The convention (README "Exit codes and messages"):

- exit 0: done; 1: runtime failure (camera unreachable, unreadable media, database
  down); 2: bad usage or a bad input file;
- config problems print as ``FILE:LINE: key: reason``, one per line; every other
  message starts with ``sitewatch COMMAND:`` and names the file it is about.

Commands raise :class:`CommandError` (exit 2) or :class:`CommandFailed` (exit 1) and
let ``sitewatch.cli.main`` print them; argument types below refuse bad values where
they are parsed, so argparse reports them with the same prefix and exit 2.
"""

from __future__ import annotations

import argparse
import math
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable

    from sitewatch.config.site import CameraConfig, SiteConfig

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov")


class CommandError(Exception):
    """Bad usage or bad input: printed as ``sitewatch COMMAND: message``, exit 2."""


class CommandFailed(Exception):
    """A runtime failure (camera unreachable, unreadable media): exit 1."""


class HelpFormatter(argparse.HelpFormatter):
    """Shows every option's default (lists as ``a,b,c``) unless its help already does."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            default in (None, False, argparse.SUPPRESS)
            or "default" in text.lower()
            or not (action.option_strings or action.nargs in ("?", "*"))
        ):
            return text
        if isinstance(default, list | tuple):
            shown = ",".join(str(v) for v in default)
        elif isinstance(default, float):
            shown = f"{default:g}"
        else:
            shown = str(default)
        return f"{text} (default: {shown.replace('%', '%%')})"


class Parser(argparse.ArgumentParser):
    """argparse with defaults in every ``--help`` and errors as ``sitewatch CMD: …``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:  # argparse's signature returns NoReturn
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


# -- argument types: each raises ArgumentTypeError with what is allowed and what was given


def duration_arg(text: str) -> float:
    """Seconds, as ``10``, ``2.5``, ``10s``, ``5m`` or ``250ms``; positive and finite."""
    from streams.clock import parse_duration

    try:
        value = parse_duration(float(text) if _is_number(text) else text)
    except (ValueError, OverflowError):
        raise argparse.ArgumentTypeError(
            f"expected seconds or a duration such as 10s, 5m, 250ms, got {text!r}"
        ) from None
    if not 0 < value <= 86400:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 1d, got {text!r}")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def number_arg(
    low: float, high: float, *, integer: bool = False, low_open: bool = False
) -> Callable[[str], float]:
    """A finite number in [low, high] (``(low, high]`` with ``low_open``)."""

    def parse(text: str) -> float:
        try:
            value: float = int(text) if integer else float(text)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise argparse.ArgumentTypeError(f"expected {kind}, got {text!r}") from None
        above_low = value > low if low_open else value >= low
        if not (math.isfinite(value) and above_low and value <= high):
            lo = "(" if low_open else "["
            raise argparse.ArgumentTypeError(f"must be in {lo}{low:g}, {high:g}], got {text!r}")
        return value

    parse.__name__ = "integer" if integer else "number"
    return parse


def int_arg(low: int, high: int) -> Callable[[str], int]:
    parse = number_arg(low, high, integer=True)
    return lambda text: int(parse(text))


def output_arg(suffixes: tuple[str, ...]) -> Callable[[str], Path]:
    """An output file whose extension is one of ``suffixes``, in a folder that exists."""

    def parse(text: str) -> Path:
        path = Path(text)
        if path.suffix.lower() not in suffixes:
            raise argparse.ArgumentTypeError(f"must end in {', '.join(suffixes)}, got {text!r}")
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
        if not path.parent.is_dir():
            raise argparse.ArgumentTypeError(f"folder {path.parent} does not exist")
        return path

    return parse


def existing_file(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder, not a file")
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"file not found: {text}")
    return path


def host_arg(text: str) -> str:
    """A listen address or host name (as ``api.host`` in the config)."""
    from sitewatch.config.types import check_host

    try:
        return check_host(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def classes_arg(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated class names, got {text!r}")
    return names


# -- shared steps


def load_site_or_fail(path: str | Path) -> SiteConfig:
    """The site config; a bad file raises ConfigError (printed one problem per line, exit 2)."""
    from sitewatch.config import load_site

    return load_site(path)


def camera_or_fail(site: SiteConfig, camera_id: str) -> CameraConfig:
    """The camera called ``camera_id``, or CommandError naming the cameras there are."""
    try:
        return site.camera(camera_id)
    except KeyError as exc:
        raise CommandError(str(exc.args[0])) from None


def check_source(url: str, timeout: float = 3.0) -> str:
    """Refuse a bad URL (exit 2) and a camera that refuses connections (exit 1) at once.

    A file path must exist; ``rtsp://`` and ``http(s)://`` URLs need a host, and a TCP
    connection to it is tried first, so a refused or unknown host fails now instead of
    after the whole ``--timeout``.
    """
    from sitewatch.config.types import check_camera_url

    try:
        checked = check_camera_url(url, None)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    if "://" not in url:
        return checked
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    default = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}.get(scheme, 554)
    host, port = parts.hostname or "", parts.port or default
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except ConnectionRefusedError:
        raise CommandFailed(f"cannot connect to {host}:{port}: connection refused") from None
    except socket.gaierror as exc:
        raise CommandFailed(f"cannot connect to {host}:{port}: {exc.strerror}") from None
    except OSError:
        pass  # slow or filtered: let the stream's own timeout decide
    return checked


def command_name(args: argparse.Namespace) -> str:
    """``sitewatch zones preview`` for the parsed ``args``."""
    words = [str(args.command)]
    for key, value in vars(args).items():
        if key.endswith("_command") and key != "command" and isinstance(value, str):
            words.append(value)
    return "sitewatch " + " ".join(words)


def warn(args: argparse.Namespace, message: str) -> None:
    print(f"{command_name(args)}: {message}", file=sys.stderr)

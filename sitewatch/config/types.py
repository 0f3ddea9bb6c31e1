"""Field types every config section shares: safe ids, hosts, camera URLs.

How to declare a config section so that it gets every check for free:

- subclass :class:`StrictModel` (unknown keys are errors, frozen, ``ordered_fields``);
- plain ``int`` / ``float`` / ``str`` / ``bool`` / ``Path`` / ``tuple`` / ``Literal`` /
  ``datetime.date`` fields with ``Field(default, ge=…, le=…, description=…)``: the
  loader validates in strict mode, so ``yes`` is never a number, ``"5"`` never an
  integer, ``001`` never text;
- :data:`SafeId` for anything that becomes a file or folder name, :data:`Host` for a
  listen address or host name, ``streams.clock.Duration`` for durations (``10s``);
- a sub-section typed as a model with ``default_factory`` (not ``X | None``): left
  empty in the file (``api:`` with every key commented out), it means its defaults;
- ``ordered_fields = (("low", "high"),)`` for pairs that must not contradict; a
  ``field_validator`` raising ``ValueError("… got …")`` for anything else.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator

from streams.paths import SAFE_ID_PATTERN, is_safe_id
from streams.settings import StrictModel

__all__ = ["SAFE_ID_PATTERN", "Host", "SafeId", "StrictModel", "check_camera_url", "check_host"]


def _short(value: str, limit: int = 60) -> str:
    """``value`` as a quoted string, cut to ``limit`` characters."""
    text = value if len(value) <= limit else value[: limit - 3] + "..."
    return repr(text)


def check_safe_id(value: str) -> str:
    if not is_safe_id(value):
        raise ValueError(
            f"id {_short(value)} is not allowed: use 1 to 64 ASCII letters, digits, _ and - "
            "(no dots, slashes or spaces; not starting with -); put other text in name:"
        )
    return value


SafeId = Annotated[str, AfterValidator(check_safe_id)]
"""An id that becomes a file or folder name (camera, zone, mask)."""

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def check_host(value: str) -> str:
    """An IPv4/IPv6 address or a DNS host name (RFC 1123), else ValueError."""
    text = value.strip("[]") if value.startswith("[") else value
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    named = len(value) <= 253 and value and all(_LABEL.match(label) for label in labels)
    if named and not labels[-1].isdigit():  # 300.1.1.1 is neither an address nor a name
        return value
    raise ValueError(
        f"{_short(value)} is not a host: give an IP address (127.0.0.1, 0.0.0.0, ::1) "
        "or a host name (letters, digits, - and dots)"
    )


Host = Annotated[str, AfterValidator(check_host)]
"""A listen address or host name."""

_NETWORK_SCHEMES = {"rtsp", "rtsps", "http", "https"}


def check_camera_url(value: str, config_dir: Path | None) -> str:
    """``rtsp(s)://host/…``, ``http(s)://host/…``, or an existing video file.

    A file path is made absolute against ``config_dir``. ValueError says what is wrong.
    """
    bad = next((c for c in value if c.isspace() or ord(c) < 32 or ord(c) == 127), None)
    if bad is not None:
        what = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab", " ": "a space"}
        raise ValueError(f"url contains {what.get(bad, f'U+{ord(bad):04X}')}")
    if "://" in value:
        scheme = value.split("://", 1)[0].lower()
        if scheme == "file":
            return _existing_file(urlsplit(value).path, config_dir)
        if scheme not in _NETWORK_SCHEMES:
            raise ValueError(
                f"unsupported URL scheme {scheme}://: use rtsp://host/…, http(s)://host/… "
                "or a video file path"
            )
        try:
            parts = urlsplit(value)
            host = parts.hostname
            _ = parts.port  # raises on a port that is not a number
        except ValueError as exc:
            raise ValueError(f"url {_short(value)} is not a valid URL: {exc}") from None
        if not host:
            raise ValueError(f"url {_short(value)} has no host: write {scheme}://HOST[:PORT]/PATH")
        try:
            check_host(host)
        except ValueError:
            raise ValueError(
                f"url {_short(value)}: {_short(host)} is not a host name or address"
            ) from None
        return value
    return _existing_file(value, config_dir)


def _existing_file(value: str, config_dir: Path | None) -> str:
    path = Path(value)
    if config_dir is not None and not path.is_absolute():
        path = Path(config_dir) / path
    if not path.is_file():
        why = "is a folder" if path.is_dir() else "does not exist"
        raise ValueError(
            f"video file {path} {why}: url must be rtsp://HOST/…, http(s)://HOST/… "
            "or an existing video file"
        )
    return str(path)

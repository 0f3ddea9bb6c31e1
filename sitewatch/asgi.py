"""The ASGI factory uvicorn's workers call: ``sitewatch.asgi:app`` with ``factory=True``.
Each process builds its own engine and services from ``$SITEWATCH_CONFIG``.

Also uvicorn's HTTP protocols with TCP_NODELAY on every connection: ``NoDelayHttpTools``
(httptools' C parser, what ``sitewatch api`` uses when httptools is installed) and
``NoDelayH11Protocol`` (pure Python h11, the fallback).
"""

from __future__ import annotations

import functools
import importlib.util
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI


def app() -> FastAPI:
    from api.app import create_app
    from sitewatch.apiconfig import load_settings

    config = os.environ.get("SITEWATCH_CONFIG")
    if not config:
        raise RuntimeError(
            "SITEWATCH_CONFIG is not set: start the API with sitewatch api --config FILE"
        )
    return create_app(load_settings(config))


def http_protocol() -> str:
    """What ``sitewatch api`` passes as uvicorn's ``http``: httptools if it is installed
    (about half the CPU of h11 per request), else h11; both with TCP_NODELAY."""
    if importlib.util.find_spec("httptools") is not None:
        return "sitewatch.asgi:NoDelayHttpToolsProtocol"
    return "sitewatch.asgi:NoDelayH11Protocol"


def event_loop() -> str:
    """uvicorn's ``loop``: uvloop if it is installed, else asyncio's own."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


@functools.cache
def _no_delay(base: str) -> type:
    """``base`` (uvicorn's ``h11`` or ``httptools`` protocol) with TCP_NODELAY set on each
    connection it is given.

    With ``--workers N`` uvicorn hands each worker the listening socket through
    ``socket.fromfd``, whose ``proto`` is 0, so asyncio does not set TCP_NODELAY on the
    connections it accepts; a response's body then waits for the client's delayed ACK of
    its headers: 40 ms on every keep-alive request.
    """
    import socket

    if base == "h11":
        from uvicorn.protocols.http.h11_impl import H11Protocol as Base
    else:
        from uvicorn.protocols.http.httptools_impl import (  # type: ignore[assignment]
            HttpToolsProtocol as Base,
        )

    class NoDelay(Base):
        def connection_made(self, transport: Any) -> None:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().connection_made(transport)

    NoDelay.__name__ = NoDelay.__qualname__ = f"NoDelay{Base.__name__}"
    return NoDelay


_PROTOCOLS = {"NoDelayH11Protocol": "h11", "NoDelayHttpToolsProtocol": "httptools"}


def __getattr__(name: str) -> Any:  # uvicorn imports "sitewatch.asgi:NoDelay…Protocol"
    if name in _PROTOCOLS:
        return _no_delay(_PROTOCOLS[name])
    raise AttributeError(name)

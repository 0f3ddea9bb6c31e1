"""``sitewatch api --workers N`` serves through ``NoDelayHttpToolsProtocol`` (or
``NoDelayH11Protocol`` without httptools): each uvicorn worker
gets the listening socket from ``socket.fromfd`` (``proto`` 0), on whose connections
asyncio does not set TCP_NODELAY, and every keep-alive answer then waited 40 ms for the
client's delayed ACK."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn
from uvicorn.server import ServerState

from sitewatch import asgi


async def _app(scope: object, receive: object, send: object) -> None:
    return None


async def _nodelay_of_accepted(protocol: type[asyncio.Protocol] | None) -> int:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    shared = socket.fromfd(listener.fileno(), socket.AF_INET, socket.SOCK_STREAM)
    accepted: list[asyncio.BaseTransport] = []
    state = ServerState()
    config = uvicorn.Config(app=_app, http=protocol or "h11", log_level="warning")
    config.load()

    class Plain(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted.append(transport)

    made_list: list[asyncio.Protocol] = []

    def make() -> asyncio.Protocol:
        if protocol is None:
            return Plain()
        made: asyncio.Protocol = config.http_protocol_class(
            config=config, server_state=state, app_state={}
        )
        made_list.append(made)
        return made

    server = await asyncio.get_running_loop().create_server(make, sock=shared)
    try:
        _, writer = await asyncio.open_connection(*listener.getsockname())
        for _ in range(200):
            accepted += [t for p in made_list if (t := getattr(p, "transport", None))]
            if accepted:
                break
            await asyncio.sleep(0.01)
        transport = accepted[0]
        value = int(
            transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        )
        writer.close()
        return value
    finally:
        server.close()
        listener.close()
        shared.close()


@pytest.mark.parametrize("name", ["NoDelayH11Protocol", "NoDelayHttpToolsProtocol"])
def test_a_shared_listening_socket_loses_nodelay_and_the_protocol_restores_it(name: str) -> None:
    if name == "NoDelayHttpToolsProtocol":
        pytest.importorskip("httptools")
    assert asyncio.run(_nodelay_of_accepted(None)) == 0  # what asyncio does on its own
    assert asyncio.run(_nodelay_of_accepted(getattr(asgi, name))) == 1


def test_sitewatch_api_picks_httptools_and_uvloop_when_installed() -> None:
    import importlib.util

    has_httptools = importlib.util.find_spec("httptools") is not None
    protocol = uvicorn.importer.import_from_string(asgi.http_protocol())
    assert protocol.__name__ == (
        "NoDelayHttpToolsProtocol" if has_httptools else "NoDelayH11Protocol"
    )
    assert asgi.event_loop() == ("uvloop" if importlib.util.find_spec("uvloop") else "asyncio")

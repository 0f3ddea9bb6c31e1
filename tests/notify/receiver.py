"""A robot / webhook endpoint on 127.0.0.1 for the channel tests: it records every request
and refuses its first ``fail`` calls (HTTP 503, or a robot's error code)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@dataclass
class Receiver:
    fail: int = 0
    refuse_with: tuple[int, dict[str, Any]] = (503, {"errcode": -1, "errmsg": "busy"})
    ok: dict[str, Any] = field(default_factory=lambda: {"errcode": 0, "errmsg": "ok"})
    calls: int = 0
    accepted: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def handle(self, req: Request) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.calls += 1
            if self.calls <= self.fail:
                return self.refuse_with
            self.accepted.append(req)
            return 200, self.ok


@contextmanager
def receiver(**kw: Any) -> Iterator[Receiver]:
    rec = Receiver(**kw)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            parts = urlsplit(self.path)
            status, body = rec.handle(
                Request(parts.path, parse_qs(parts.query), dict(self.headers), raw)
            )
            out = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()

"""A stand-in for the sitewatch API on 127.0.0.1 that answers like the worker's contract.

``POST /api/v1/detections`` (multipart: part ``detection`` JSON, one file part per
evidence file, ``Idempotency-Key``): 201 the first time, 200 with the same body for a
repeat with the same body, 422 for a key reused with another body or a record whose zone
is ``reject``; 401 without the key. ``fail_next`` answers 503 to that many calls first;
``lose_next`` applies that many calls and then answers 500 (an answer lost on the way).
``POST /api/v1/cameras/{id}/heartbeat`` → 204. Also a webhook receiver at ``/hook``.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import uvicorn
import yaml
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from streams.simulator import Simulator, free_port, unavailable_reason
from synth.scene import write_video
from synth.suite import get_scenario

API_KEY = "test-worker-key-0123456789"


@dataclass
class Call:
    path: str
    status: int
    key: str | None = None
    record: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


class FakeApi:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.applied: dict[str, tuple[str, dict[str, Any]]] = {}  # key → (body hash, answer)
        self.order: list[str] = []
        self.fail_next = 0
        self.lose_next = 0
        self.lock = threading.Lock()
        self.app = self._build()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/api/v1/detections")
        async def detections(request: Request) -> Response:
            form = await request.form()
            detection = form.get("detection")
            files = {}
            for name, value in form.multi_items():
                if name != "detection" and hasattr(value, "read"):
                    files[name] = (str(value.filename), await value.read())
            digest = hashlib.sha256(str(detection).encode())
            for name in sorted(files):
                digest.update(name.encode() + files[name][1])
            return self._detection(request, detection, files, digest.hexdigest())

        @app.post("/api/v1/cameras/{camera}/heartbeat")
        async def heartbeat(camera: str, request: Request) -> Response:
            body = await request.json()
            with self.lock:
                self.calls.append(Call(f"heartbeat/{camera}", 204, record=body))
            return Response(status_code=204)

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            status = self._next_status()
            with self.lock:
                self.calls.append(Call("hook", status, body=body, headers=dict(request.headers)))
            return Response(status_code=status)

        return app

    def _next_status(self) -> int:
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503
        return 200

    def _detection(
        self, request: Request, detection: Any, files: dict[str, Any], digest: str
    ) -> Response:
        key = request.headers.get("idempotency-key")
        call = Call("detections", 0, key=key, files=files)
        with self.lock:
            self.calls.append(call)
            if request.headers.get("authorization") != f"Bearer {API_KEY}":
                call.status = 401
                return JSONResponse({"detail": "bad key"}, status_code=401)
            if self.fail_next > 0:
                self.fail_next -= 1
                call.status = 503
                return JSONResponse({"detail": "down"}, status_code=503)
            if not isinstance(detection, str) or not key:
                call.status = 422
                return JSONResponse({"detail": "no detection part"}, status_code=422)
            record = json.loads(detection)
            call.record = record
            if record.get("zone") == "reject" or record.get("id") != key:
                call.status = 422
                return JSONResponse({"detail": "invalid record"}, status_code=422)
            return self._apply(call, key, record, digest)

    def _apply(self, call: Call, key: str, record: dict[str, Any], digest: str) -> Response:
        seen = self.applied.get(key)
        if seen is not None:
            if seen[0] != digest:
                call.status = 422
                return JSONResponse({"detail": "key reused with another body"}, 422)
            call.status = 200
            return JSONResponse(seen[1], status_code=200)
        answer = {
            "detection_id": len(self.applied) + 1,
            "case_id": len(self.applied) + 1,
            "opened": True,
            "attached": sorted(call.files),
        }
        self.applied[key] = (digest, answer)
        self.order.append(key)
        if self.lose_next > 0:
            self.lose_next -= 1
            call.status = 500
            return JSONResponse({"detail": "lost"}, status_code=500)
        call.status = 201
        return JSONResponse(answer, status_code=201)

    def detection_calls(self) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.path == "detections"]

    def start(self) -> FakeApi:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake API did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(10)
            self._server = None


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    """A fake API, not started yet (``fake_api.start()``): its URL refuses until then."""
    api = FakeApi()
    try:
        yield api
    finally:
        api.stop()


def wait_for(predicate: Any, timeout: float = 10.0, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return bool(predicate())


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Simulator, float, dict]]:
    """The 'demolished' scene served as an RTSP camera: (simulator, speed, site dict)."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("rtsp-worker")
    scenario = get_scenario("demolished")
    video = folder / "demolished.mp4"
    write_video(scenario, str(video))
    with Simulator([video], free_port()) as sim:
        site = scenario.site_config(sim.urls[0])
        site["cameras"][0]["sample_interval"] = "5m"  # scene time: 0.5 s of video
        yield sim, scenario.speed, site


def write_site(folder: Path, site: dict, **worker: object) -> Path:
    site = {
        **site,
        "storage": {"evidence_dir": "evidence", "reference_dir": "refs"},
        "worker": {"outbox_file": "outbox.sqlite3", **worker},
    }
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    return path


def read_events(path: Path) -> list[dict]:
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.endswith("}")]

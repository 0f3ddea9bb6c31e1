"""Ingest throughput for bench_api.py: the service call alone, and over HTTP.

Both drive PostgreSQL from separate processes so that the client side does not share one GIL
with what it measures. The HTTP clients send pre-built multipart bodies over keep-alive
connections (``http.client``, a few threads per process): building bodies and parsing
answers would otherwise take the CPU the server needs on a small machine.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import hashlib
import http.client
import io
import json
import os
import random
import resource
import threading
import time
from dataclasses import dataclass, field

CAMERAS = 16
BOUNDARY = "sitewatchbenchboundary"


def record(n: int) -> dict[str, object]:
    """Detection ``n``: boxes spread over a 40 × 20 grid per camera (a new case each)."""
    cam = n % CAMERAS
    x = (n // CAMERAS) % 40 * 45
    y = (n // CAMERAS // 40) % 20 * 50
    return {
        "event": "confirmed",
        "camera": f"cam{cam}",
        "zone": "z",
        "bbox": [x, y, x + 30, y + 30],
        "score": 0.9,
        "label": "steel_roof_shed",
        "first_seen_s": float(n),
        "id": f"{n:016x}",
    }


def jobs(start: int, n: int) -> list[dict[str, object]]:
    """``n`` new detections and one repeat of an earlier key for every ten (dedupe)."""
    recs = [record(start + i) for i in range(n)]
    repeats = [recs[i] for i in random.Random(start).sample(range(n), n // 10)]
    out = recs + repeats
    random.Random(start + 1).shuffle(out)
    return out


def jpeg_of(size: int, tag: int = 0) -> bytes:
    """A real small JPEG padded with comment segments to ``size`` bytes; ``tag`` makes the
    bytes (so the stored file) differ per detection."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 80)).save(buf, "JPEG")
    raw = buf.getvalue()
    pad = max(0, size - len(raw))
    rng = random.Random(tag)
    chunks = []
    for i in range(0, pad, 65533):
        n = min(65533, pad - i)
        chunks.append(b"\xff\xfe" + (n + 2).to_bytes(2, "big") + rng.randbytes(n))
    return raw[:2] + b"".join(chunks) + raw[2:]


def multipart(rec: dict[str, object], evidence: bytes | None) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="detection"\r\n'
        f"Content-Type: application/json\r\n\r\n{json.dumps(rec)}\r\n".encode()
    ]
    if evidence is not None:
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="snapshot"; '
            'filename="snapshot.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        )
        parts.append(head.encode() + evidence + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


@dataclass(frozen=True)
class Run:
    """One client process's share: when it started and ended, answers, CPU seconds."""

    started: float
    ended: float
    codes: list[int]
    cpu_s: float


def _post_all(port: int, key: str, bodies: list[tuple[str, bytes]], threads: int) -> Run:
    """In a client process: ``threads`` keep-alive connections share ``bodies``."""
    lock, todo, codes = threading.Lock(), list(reversed(bodies)), []

    def loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                if not todo:
                    break
                ident, body = todo.pop()
            headers = {
                "Authorization": f"Bearer {key}",
                "Idempotency-Key": ident,
                "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
            }
            conn.request("POST", "/api/v1/detections", body=body, headers=headers)
            resp = conn.getresponse()
            resp.read()
            with lock:
                codes.append(resp.status)
        conn.close()

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()  # system-wide on Linux: comparable across processes
    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    ended = time.monotonic()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    return Run(started, ended, codes, cpu)


def _serves_another_database(pid: str, database: str | None) -> bool:
    """A PostgreSQL backend of some other database (other jobs' tests on the same server);
    background processes (WAL writer, checkpointer …) name none and are counted."""
    if database is None:
        return False
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            title = f.read().decode(errors="replace").split()
    except OSError:
        return False
    # "postgres: 15/main: USER DATABASE HOST(PORT) STATE" for a client backend
    return len(title) >= 5 and title[0] == "postgres:" and title[3] != database


def cpu_seconds(
    server_pid: int | None = None, database: str | None = None
) -> dict[str, dict[int, float]]:
    """CPU seconds used so far by PostgreSQL's processes (with ``database``: its backends
    and the background processes, not other databases' backends) and by the API server's
    processes (``server_pid`` and its children), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[str, dict[int, float]] = {"postgres": {}, "server": {}}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                name, rest = f.read().rsplit(")", 1)
        except OSError:
            continue
        fields = rest.split()
        used = (int(fields[11]) + int(fields[12])) / tick
        pid, ppid = int(entry), int(fields[1])
        if name.endswith("(postgres"):
            if not _serves_another_database(entry, database):
                out["postgres"][pid] = used
        elif server_pid is not None and server_pid in (pid, ppid):
            out["server"][pid] = used
    return out


def cpu_used(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    """CPU seconds between two :func:`cpu_seconds` snapshots (processes that ended are lost)."""
    return {k: sum(v - before[k].get(pid, 0.0) for pid, v in after[k].items()) for k in after}


@dataclass(frozen=True)
class Rate:
    per_s: float
    requests: int
    client_cpu_share: float  # client CPU seconds per wall second (of 2 cores on the bench box)
    cpu_ms: dict[str, float] = field(default_factory=dict)  # CPU ms per request, by side


def bench_http(
    port: int,
    key: str,
    start: int,
    n: int,
    evidence: int | None,
    processes: int = 2,
    threads: int = 8,
    server_pid: int | None = None,
    database: str | None = None,
) -> Rate:
    """Requests/s of ``POST /api/v1/detections`` (new and repeated keys), all 200/201, and
    the CPU each request cost the server, PostgreSQL and the client."""
    todo = jobs(start, n)
    bodies = [
        (str(r["id"]), multipart(r, None if evidence is None else jpeg_of(evidence, hash(r["id"]))))
        for r in todo
    ]
    shares = [bodies[i::processes] for i in range(processes)]
    with cf.ProcessPoolExecutor(processes) as pool:
        list(pool.map(time.sleep, [0.01] * processes))  # the client processes are up
        before = cpu_seconds(server_pid, database)
        runs = list(
            pool.map(
                _post_all, [port] * processes, [key] * processes, shares, [threads] * processes
            )
        )
        used = cpu_used(before, cpu_seconds(server_pid, database))
    took = max(r.ended for r in runs) - min(r.started for r in runs)
    codes = [c for r in runs for c in r.codes]
    bad = [c for c in codes if c not in (200, 201)]
    if bad or len(codes) != len(bodies):
        raise SystemExit(f"ingest answered {bad[:5]} ({len(codes)} of {len(bodies)} answers)")
    client = sum(r.cpu_s for r in runs)
    cpu_ms = {k: 1000 * v / len(codes) for k, v in {**used, "client": client}.items()}
    return Rate(len(codes) / took, len(codes), client / took, cpu_ms)


def _service_share(url: str, recs: list[dict[str, object]], threads: int) -> Run:
    """In a process of its own: ``models.ingest.ingest`` from ``threads`` threads."""
    from sqlalchemy.orm import Session

    from models import ingest
    from models.engine import make_engine
    from models.enums import Role
    from models.policy import WorkflowPolicy
    from models.workflow import Actor

    engine = make_engine(url)
    policy, actor = WorkflowPolicy(), Actor(None, "bench", frozenset({(Role.WORKER, "闽侯县")}))

    def one(rec: dict[str, object]) -> int:
        body = hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()
        with Session(engine) as s, s.begin():
            r = ingest.ingest(
                s,
                policy,
                key=str(rec["id"]),
                body_sha256=body,
                record=rec,
                files=[],
                actor=actor,
                now=dt.datetime.now(dt.UTC),
            )
        return 200 if r.repeat else 201

    with Session(engine) as s:  # connect the pool before the clock starts
        s.connection()
    cpu0 = os.times()
    started = time.monotonic()
    with cf.ThreadPoolExecutor(threads) as pool:
        codes = list(pool.map(one, recs))
    ended = time.monotonic()
    cpu1 = os.times()
    engine.dispose()
    return Run(started, ended, codes, cpu1.user - cpu0.user + cpu1.system - cpu0.system)


def bench_service(url: str, start: int, n: int, processes: int = 2, threads: int = 4) -> Rate:
    """Detections/s through ``models.ingest.ingest`` alone (no HTTP), repeats included."""
    todo = jobs(start, n)
    shares = [todo[i::processes] for i in range(processes)]
    with cf.ProcessPoolExecutor(processes) as pool:
        list(pool.map(time.sleep, [0.01] * processes))
        database = url.rsplit("/", 1)[-1]
        before = cpu_seconds(database=database)
        runs = list(pool.map(_service_share, [url] * processes, shares, [threads] * processes))
        used = cpu_used(before, cpu_seconds(database=database))
    took = max(r.ended for r in runs) - min(r.started for r in runs)
    count = sum(len(r.codes) for r in runs)
    python = sum(r.cpu_s for r in runs)
    cpu_ms = {"postgres": 1000 * used["postgres"] / count, "client": 1000 * python / count}
    return Rate(count / took, count, python / took, cpu_ms)

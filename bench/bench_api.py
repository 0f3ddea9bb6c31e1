"""The API's two figures on PostgreSQL, each beside its baseline in the same run.

1. **Ingest throughput with dedupe** (target ≥ 500 detections/s, evidence excluded):
   detections go through ``POST /api/v1/detections`` of ``sitewatch api`` (uvicorn, N worker
   processes) from concurrent clients, one in ten a repeat of an earlier key; then the same
   with 200 KB of evidence per detection. The service call alone (``models.ingest`` from
   threads, no HTTP) is printed beside it.
2. **Filtered case list at 100 000 cases** (target p95 < 100 ms): p50/p95 of
   ``GET /api/v1/cases?stage=…&unit=…`` as a town operator, then the same query after
   dropping the case indexes.

    .venv/bin/python bench/bench_api.py [--detections 3000] [--cases 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import datetime as dt
import hashlib
import io
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOWNS = {f"镇{t:02d}": [f"村{t:02d}{v:02d}" for v in range(12)] for t in range(8)}
CAMERAS = 16


def _site(tmp: Path, url: str, port: int) -> Path:
    lines = ["units:", "  district: 闽侯县", "  towns:"]
    lines += [f"    {t}: [{', '.join(vs)}]" for t, vs in TOWNS.items()]
    lines.append("cameras:")
    towns = list(TOWNS)
    for c in range(CAMERAS):
        t = towns[c % len(towns)]
        lines += [
            f"  - id: cam{c}",
            f"    url: rtsp://127.0.0.1:8554/cam{c}",
            "    zones:",
            "      - id: z",
            f"        unit: {t}/{TOWNS[t][c % 12]}",
            "        polygon: [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]",
        ]
    lines += [
        "database:",
        f"  url: {url}",
        "api:",
        "  host: 127.0.0.1",
        f"  port: {port}",
        "storage:",
        f"  evidence_dir: {tmp / 'evidence'}",
    ]
    cfg = tmp / "site.yaml"
    cfg.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return cfg


def _record(n: int) -> dict[str, object]:
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


def _jpeg_of(size: int) -> bytes:
    # a valid JPEG header and end, padded: the store sniffs and (optionally) decodes images,
    # so use a real small JPEG and pad it with a COM segment to the wanted size
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (90, 120, 80)).save(buf, "JPEG")
    raw = buf.getvalue()
    pad = max(0, size - len(raw))
    chunks = b"".join(
        b"\xff\xfe" + (min(65533, pad - i) + 2).to_bytes(2, "big") + os.urandom(min(65533, pad - i))
        for i in range(0, pad, 65533)
    )
    return raw[:2] + chunks + raw[2:]


def _serve(cfg: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).with_name("sitewatch")
    proc = subprocess.Popen(
        [str(exe), "api", "--config", str(cfg), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("sitewatch api did not start")


def _worker_key(cfg: Path) -> str:
    exe = Path(sys.executable).with_name("sitewatch")
    out = subprocess.run(
        [
            str(exe),
            "users",
            "add",
            f"w{uuid.uuid4().hex[:6]}",
            "--role",
            "worker",
            "--unit",
            "闽侯县",
            "--config",
            str(cfg),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.strip().splitlines()[-1]


def bench_http(
    base: str, key: str, start: int, n: int, evidence: bytes | None, clients: int
) -> float:
    recs = [_record(start + i) for i in range(n)]
    repeats = [recs[i] for i in random.Random(1).sample(range(n), n // 10)]
    jobs = recs + repeats

    def post(client: httpx.Client, rec: dict[str, object]) -> int:
        parts: dict[str, tuple[str | None, bytes | str, str]] = {
            "detection": (None, json.dumps(rec), "application/json")
        }
        if evidence is not None:
            parts["snapshot"] = ("snapshot.jpg", evidence, "image/jpeg")
        r = client.post(
            f"{base}/api/v1/detections",
            files=parts,
            headers={"Authorization": f"Bearer {key}", "Idempotency-Key": str(rec["id"])},
        )
        return r.status_code

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(clients) as pool:
        http = [httpx.Client(timeout=60) for _ in range(clients)]
        codes = list(pool.map(lambda ij: post(http[ij[0] % clients], ij[1]), enumerate(jobs)))
    took = time.perf_counter() - t0
    bad = [c for c in codes if c not in (200, 201)]
    if bad:
        raise SystemExit(f"ingest answered {bad[:5]}")
    return len(jobs) / took


def bench_service(url: str, start: int, n: int, threads: int) -> float:
    from sqlalchemy.orm import Session

    from models import ingest
    from models.engine import make_engine
    from models.enums import Role
    from models.policy import WorkflowPolicy
    from models.workflow import Actor

    engine = make_engine(url)
    policy, actor = WorkflowPolicy(), Actor(None, "bench", frozenset({(Role.WORKER, "闽侯县")}))
    recs = [_record(start + i) for i in range(n)]
    recs += recs[: n // 10]

    def one(rec: dict[str, object]) -> None:
        body = hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()
        with Session(engine) as s, s.begin():
            ingest.ingest(
                s,
                policy,
                key=str(rec["id"]),
                body_sha256=body,
                record=rec,
                files=[],
                actor=actor,
                now=dt.datetime.now(dt.UTC),
            )

    t0 = time.perf_counter()
    with cf.ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, recs))
    took = time.perf_counter() - t0
    engine.dispose()
    return len(recs) / took


def fill_cases(url: str, count: int) -> None:
    """``count`` cases spread over every village, stage and ten weeks, inserted in bulk."""
    engine = sa.create_engine(url)
    stages = ["report", "determine", "rectify", "verify", "closed"]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rng = random.Random(7)
    with engine.begin() as c:
        villages = [
            r[0] for r in c.execute(sa.text("SELECT id FROM units WHERE level = 'village'"))
        ]
        rows = []
        for i in range(count):
            opened = now - dt.timedelta(minutes=rng.randrange(70 * 24 * 60))
            stage = rng.choice(stages)
            rows.append(
                {
                    "source": "manual",
                    "stage": stage,
                    "unit_id": rng.choice(villages),
                    "label": "",
                    "description": f"bench {i}",
                    "opened_at": opened,
                    "stage_started_at": opened,
                    "target_at": opened + dt.timedelta(days=7),
                    "deadline_at": None
                    if stage in ("report", "closed")
                    else opened + dt.timedelta(days=2),
                    "version": 1,
                }
            )
        c.execute(
            sa.text(
                "INSERT INTO cases (source, stage, unit_id, label, description, opened_at, "
                "stage_started_at, target_at, deadline_at, version) VALUES (:source, :stage, "
                ":unit_id, :label, :description, :opened_at, :stage_started_at, :target_at, "
                ":deadline_at, :version)"
            ),
            rows,
        )
        c.execute(sa.text("ANALYZE cases"))
    engine.dispose()


def list_latency(base: str, token: str, runs: int) -> tuple[float, float]:
    stages = ["report", "determine", "rectify", "verify"]
    times = []
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
        for i in range(runs):
            t0 = time.perf_counter()
            r = c.get(
                f"{base}/api/v1/cases", params={"stage": stages[i % 4], "unit": "镇01", "limit": 50}
            )
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200 and len(r.json()["items"]) == 50, r.text[:200]
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--detections", type=int, default=3000)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn processes")
    ap.add_argument("--clients", type=int, default=16)
    args = ap.parse_args()
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    name = f"sitewatch_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = _site(Path(tmp), url, port)
            proc = _serve(cfg, port, args.workers)
            try:
                key = _worker_key(cfg)
                n = args.detections
                http0 = bench_http(base, key, 0, n, None, args.clients)
                http200 = bench_http(base, key, n, n // 3, _jpeg_of(200_000), args.clients)
                svc = bench_service(url, 10 * n, n, 8)
                print(
                    f"ingest, PostgreSQL, {args.workers} API processes, {args.clients} clients, "
                    f"10 % repeated keys (detections/s):"
                )
                print(f"  models.ingest alone (no HTTP, 8 threads)   {svc:8.0f}")
                print(f"  POST /api/v1/detections, no evidence         {http0:8.0f}   target ≥ 500")
                print(f"  POST /api/v1/detections, 200 KB evidence     {http200:8.0f}")
                exe = Path(sys.executable).with_name("sitewatch")
                subprocess.run(
                    [
                        str(exe),
                        "users",
                        "add",
                        "op",
                        "--role",
                        "operator",
                        "--unit",
                        "镇01",
                        "--config",
                        str(cfg),
                        "--password-stdin",
                    ],
                    input="bench-pass\n",
                    text=True,
                    check=True,
                    capture_output=True,
                )
                token = httpx.post(
                    f"{base}/api/v1/auth/token", data={"username": "op", "password": "bench-pass"}
                ).json()["access_token"]
                fill_cases(url, args.cases)
                p50, p95 = list_latency(base, token, 200)
                engine = sa.create_engine(url)
                with engine.begin() as c:
                    for ix in (
                        "ix_cases_stage_unit",
                        "ix_cases_opened_at_id",
                        "ix_cases_camera_zone_stage",
                    ):
                        c.execute(sa.text(f"DROP INDEX IF EXISTS {ix}"))
                    c.execute(sa.text("ANALYZE cases"))
                engine.dispose()
                q50, q95 = list_latency(base, token, 200)
                total = args.cases + n + n // 3
                print(f"filtered case list (stage + town, 50 per page) at {total} cases (ms):")
                target = "target p95 < 100"
                print(f"  with the case indexes      p50 {p50:6.1f}   p95 {p95:6.1f}   {target}")
                print(f"  without them               p50 {q50:6.1f}   p95 {q95:6.1f}")
            finally:
                proc.terminate()
                proc.wait(20)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()

"""The API's two figures on PostgreSQL, each beside its baseline in the same run.

1. **Ingest throughput with dedupe** (target ≥ 500 detections/s, evidence excluded): one
   repeat of an earlier key for every ten new detections. First ``models.ingest.ingest``
   alone (no HTTP; 2 processes × 4 threads), then ``POST /api/v1/detections`` on ``sitewatch
   api`` (uvicorn, ``--workers`` processes) from 2 client processes sending pre-built
   multipart bodies over keep-alive connections, without evidence and with a distinct
   200 KB JPEG per detection. The clients' own CPU use is printed beside: on a 2-core box
   they take part of what the server could have had.
2. **Filtered case list at 100 000 cases** (target p95 < 100 ms): p50/p95 of
   ``GET /api/v1/cases?stage=…&unit=TOWN`` (page 1 and the keyset page after it) as a town
   operator, and of the same SQL alone; then both again after dropping the index that
   serves it (``ix_cases_stage_opened``).

    .venv/bin/python bench/bench_api.py [--detections 3000] [--cases 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa
from api_cases import drop_index, fill_cases, http_latency, sql_latency
from api_ingest import CAMERAS, bench_http, bench_service

ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TOWNS = {f"镇{t:02d}": [f"村{t:02d}{v:02d}" for v in range(12)] for t in range(8)}


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


def _add_user(cfg: Path, name: str, role: str, unit: str, password: str | None = None) -> str:
    exe = Path(sys.executable).with_name("sitewatch")
    cmd = [str(exe), "users", "add", name, "--role", role, "--unit", unit, "--config", str(cfg)]
    if password is not None:
        cmd.append("--password-stdin")
    out = subprocess.run(
        cmd, input=f"{password}\n" if password else None, check=True, capture_output=True, text=True
    ).stdout
    return out.strip().splitlines()[-1] if out.strip() else ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def ingest_figures(url: str, port: int, key: str, server: int, args: argparse.Namespace) -> None:
    n = args.detections
    bench_http(port, key, 10_000_000, 200, None)  # warm every API process up
    svc = bench_service(url, 0, n)
    db = url.rsplit("/", 1)[-1]  # PostgreSQL CPU: this database's backends only
    http0 = bench_http(port, key, 1_000_000, n, None, server_pid=server, database=db)
    http200 = bench_http(
        port, key, 2_000_000, max(n // 3, 100), 200_000, server_pid=server, database=db
    )
    print(
        "ingest on PostgreSQL (synchronous_commit on), 1 repeated key per 10 new detections, "
        f"{CAMERAS} cameras, requests/s and CPU ms per request:"
    )
    print(
        f"  models.ingest alone (2 processes x 4 threads)  {svc.per_s:6.0f}/s   "
        f"CPU: Python {svc.cpu_ms['client']:.2f}, PostgreSQL {svc.cpu_ms['postgres']:.2f}"
        "   target >= 500/s"
    )
    for what, r in (("no evidence", http0), ("200 KB JPEG each", http200)):
        cpu = r.cpu_ms
        print(
            f"  HTTP, {args.workers} API processes, {what:<16}  {r.per_s:6.0f}/s   CPU: server "
            f"{cpu['server']:.2f}, PostgreSQL {cpu['postgres']:.2f}, client {cpu['client']:.2f}"
        )
    load = os.getloadavg()[0]
    print(f"  ({os.cpu_count()} CPUs; load average {load:.1f} at the end: other jobs share them)")


def list_figures(url: str, base: str, cfg: Path, args: argparse.Namespace) -> None:
    _add_user(cfg, "op", "operator", "镇01", password="bench-pass")
    token = httpx.post(
        f"{base}/api/v1/auth/token", data={"username": "op", "password": "bench-pass"}
    ).json()["access_token"]
    fill_cases(url, args.cases)
    engine = sa.create_engine(url)
    with engine.connect() as c:
        total = c.execute(sa.text("SELECT count(*) FROM cases")).scalar_one()
    engine.dispose()
    rows = []
    for label in ("with its index", "index dropped"):
        http = http_latency(base, token, "镇01", args.runs)
        sql, plan = sql_latency(url, "镇01", args.runs * 4)
        rows.append((label, http, sql, plan))
        if label == "with its index":
            drop_index(url)
    print(
        f"filtered case list (one stage, a town of 8, newest first, 50 a page, pages 1 and 2) "
        f"at {total} cases, ms:"
    )
    for label, http, sql, plan in rows:
        print(
            f"  {label:<15} HTTP p50 {http.p50:6.1f} p95 {http.p95:6.1f}   "
            f"SQL alone p50 {sql.p50:6.2f} p95 {sql.p95:6.2f}   plan: {plan}"
        )
    print("  target: HTTP p95 < 100")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--detections", type=int, default=3000)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2, help="uvicorn processes")
    ap.add_argument("--runs", type=int, default=100, help="case-list requests per variant")
    args = ap.parse_args()
    admin = sa.create_engine(ADMIN, isolation_level="AUTOCOMMIT")
    name = f"sitewatch_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    port = _free_port()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = _site(Path(tmp), url, port)
            proc = _serve(cfg, port, args.workers)
            try:
                key = _add_user(cfg, f"w{uuid.uuid4().hex[:6]}", "worker", "闽侯县")
                if args.detections:
                    ingest_figures(url, port, key, proc.pid, args)
                if args.cases:
                    list_figures(url, f"http://127.0.0.1:{port}", cfg, args)
            finally:
                proc.terminate()
                proc.wait(20)
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()

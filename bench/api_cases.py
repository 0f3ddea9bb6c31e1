"""The filtered case list for bench_api.py: 100 000 cases, timed over HTTP and as SQL alone.

The query is the API's own (``api.queries.case_query`` + ``page``) for a town operator:
one stage, the town's subtree, newest first, 50 a page, page 1 and a keyset page further
on. Its index is ``ix_cases_stage_opened``; the baseline drops that one index in the same
run and times the same requests again.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from dataclasses import dataclass

import httpx
import sqlalchemy as sa

STAGES = ["report", "determine", "rectify", "verify"]
INDEX = "ix_cases_stage_opened"


def fill_cases(url: str, count: int) -> None:
    """``count`` cases spread over every village, stage and ten weeks, inserted in bulk."""
    engine = sa.create_engine(url)
    stages = [*STAGES, "closed"]
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
            late = stage in ("report", "closed")
            rows.append(
                {
                    "source": "manual",
                    "stage": stage,
                    "unit_id": rng.choice(villages),
                    "description": f"bench {i}",
                    "opened_at": opened,
                    "target_at": opened + dt.timedelta(days=7),
                    "deadline_at": None if late else opened + dt.timedelta(days=2),
                }
            )
        c.execute(
            sa.text(
                "INSERT INTO cases (source, stage, unit_id, label, description, opened_at, "
                "stage_started_at, target_at, deadline_at, version) VALUES (:source, :stage, "
                ":unit_id, '', :description, :opened_at, :opened_at, :target_at, "
                ":deadline_at, 1)"
            ),
            rows,
        )
        c.execute(sa.text("ANALYZE cases"))
    engine.dispose()


@dataclass(frozen=True)
class Latency:
    p50: float
    p95: float


def _stats(times: list[float]) -> Latency:
    times = sorted(times)
    return Latency(statistics.median(times), times[int(0.95 * (len(times) - 1))])


def http_latency(base: str, token: str, town: str, runs: int) -> Latency:
    """``GET /api/v1/cases?stage=…&unit=town`` page 1 and the page its cursor points to."""
    times = []
    with httpx.Client(timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
        for i in range(runs):
            params: dict[str, str | int] = {"stage": STAGES[i % 4], "unit": town, "limit": 50}
            t0 = time.perf_counter()
            r = c.get(f"{base}/api/v1/cases", params=params)
            times.append((time.perf_counter() - t0) * 1000)
            body = r.json()
            assert r.status_code == 200 and len(body["items"]) == 50, r.text[:200]
            t0 = time.perf_counter()
            r = c.get(f"{base}/api/v1/cases", params={**params, "next": body["next"]})
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200 and len(r.json()["items"]) == 50, r.text[:200]
    return _stats(times)


def _statements(url: str, town: str) -> list[sa.Select[tuple[object, ...]]]:
    """The statements the list route runs for each stage: page 1 and the page after it."""
    from sqlalchemy.orm import Session

    from api.deps import Principal
    from api.queries import CaseFilter, case_query, encode_cursor, page
    from models.enums import Role
    from models.workflow import Actor

    engine = sa.create_engine(url)
    actor = Actor(1, "op", frozenset({(Role.OPERATOR, f"闽侯县/{town}")}))
    who = Principal(1, "op", "op", "zh", actor, "bearer")
    now = dt.datetime.now(dt.UTC)
    out = []
    with Session(engine) as s:
        for stage in STAGES:
            q = case_query(s, who, CaseFilter(stage=stage, unit=town), now)
            first = s.execute(page(q, None, 50)).all()
            out += [page(q, None, 50), page(q, encode_cursor(first[-2][0]), 50)]
    engine.dispose()
    return out


def sql_latency(url: str, town: str, runs: int) -> tuple[Latency, str]:
    """The list's statements alone (no HTTP, no JSON), and how PostgreSQL runs page 1."""
    statements = _statements(url, town)
    engine = sa.create_engine(url)
    times = []
    with engine.connect() as c:
        for i in range(runs):
            t0 = time.perf_counter()
            rows = c.execute(statements[i % len(statements)]).all()
            times.append((time.perf_counter() - t0) * 1000)
            assert len(rows) == 51, len(rows)
        compiled = statements[0].compile(engine, compile_kwargs={"render_postcompile": True})
        explain = "EXPLAIN (ANALYZE, COSTS OFF) " + str(compiled)
        plan = c.exec_driver_sql(explain, compiled.params).scalars().all()
    engine.dispose()
    scans = [line.strip().removeprefix("->  ") for line in plan if "Scan" in line]
    return _stats(times), "; ".join(scans[:2]) or plan[0]


def drop_index(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text(f"DROP INDEX {INDEX}"))
        c.execute(sa.text("ANALYZE cases"))
    engine.dispose()

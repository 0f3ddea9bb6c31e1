"""/healthz, /readyz, /metrics and the request metrics, in one process and in several."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.metrics import ApiMetrics, MetricsMiddleware
from api.ops import engine_check, ops_router

ROOT = Path(__file__).resolve().parents[2]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def make_app(metrics: ApiMetrics, ready: object) -> FastAPI:
    app = FastAPI()
    app.include_router(ops_router(metrics, ready))  # type: ignore[arg-type]

    @app.get("/api/v1/cases/{case_id}")
    def case(case_id: int) -> dict[str, int]:
        return {"id": case_id}

    app.add_middleware(MetricsMiddleware, metrics=metrics, skip=("/metrics",))
    return app


def test_health_ready_and_metrics_with_a_real_database(database_url: str) -> None:
    engine = sa.create_engine(database_url)
    metrics = ApiMetrics()
    client = TestClient(make_app(metrics, engine_check(engine)))
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    for i in (1, 2, 3):
        assert client.get(f"/api/v1/cases/{i}").status_code == 200
    assert client.get("/api/v1/cases/abc").status_code == 422
    assert client.get("/nothing/here").status_code == 404
    metrics.count_ingest("created")
    metrics.count_ingest("duplicate")
    metrics.count_ingest("duplicate")
    metrics.set_cases({"determine": 4, "rectify": 2}, overdue=1)
    metrics.set_cases({"determine": 5}, overdue=3)  # rectify emptied out
    resp = client.get("/metrics")
    assert resp.headers["content-type"].startswith("text/plain")
    got = samples(resp.text)
    route = "/api/v1/cases/{case_id}"

    def requests(route: str, status: str) -> float:
        labels = (("method", "GET"), ("route", route), ("status", status))
        return got[("sitewatch_http_requests_total", labels)]

    assert requests(route, "200") == 3
    assert requests(route, "422") == 1
    assert requests("<unmatched>", "404") == 1
    timed = (("method", "GET"), ("route", route))
    assert got[("sitewatch_http_request_duration_seconds_count", timed)] == 4
    assert not any(dict(k[1]).get("route") == "/metrics" for k in got)
    assert got[("sitewatch_detections_ingested_total", (("outcome", "duplicate"),))] == 2
    assert got[("sitewatch_cases", (("stage", "determine"),))] == 5
    assert got[("sitewatch_cases", (("stage", "rectify"),))] == 0
    assert got[("sitewatch_cases_overdue", ())] == 3
    engine.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    client = TestClient(make_app(ApiMetrics(), engine_check(engine)))
    assert client.get("/healthz").status_code == 200
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.json() == {"status": "unavailable", "reason": "OperationalError"}
    assert "missing" not in resp.text


def test_two_apps_in_one_process_do_not_clash() -> None:
    a, b = ApiMetrics(), ApiMetrics()
    a.count_ingest("created")
    assert samples(b.render().decode()).get(
        ("sitewatch_detections_ingested_total", (("outcome", "created"),))
    ) in (None, 0)
    with pytest.raises(ValueError, match="outcome"):
        a.count_ingest("bogus")


CHILD = textwrap.dedent(
    """
    import sys
    from fastapi import FastAPI
    from fastapi.testclient import TestClient
    from api.metrics import ApiMetrics, MetricsMiddleware
    from api.ops import ops_router

    metrics = ApiMetrics()
    assert metrics.multiprocess
    app = FastAPI()
    app.include_router(ops_router(metrics, lambda: None))
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    client = TestClient(app)
    for _ in range(int(sys.argv[1])):
        client.get("/healthz")
    metrics.count_ingest("created")
    metrics.set_cases({"determine": int(sys.argv[1])}, overdue=0)
    if sys.argv[2] == "render":
        sys.stdout.write(client.get("/metrics").text)
    """
)


def test_multiprocess_mode_adds_up_every_process(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}

    def child(n: int, action: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, str(n), action],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return done.stdout

    child(3, "-")
    child(4, "-")
    got = samples(child(2, "render"))
    key = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert got[("sitewatch_http_requests_total", key)] == 3 + 4 + 2
    assert got[("sitewatch_detections_ingested_total", (("outcome", "created"),))] == 3
    assert got[("sitewatch_cases", (("stage", "determine"),))] == 2  # the most recent value


def test_one_middleware_counts_the_request_and_writes_its_access_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics = ApiMetrics()
    app = FastAPI()

    @app.get("/api/v1/cases/{case_id}")
    def case(case_id: int) -> dict[str, int]:
        if case_id == 0:
            raise HTTPException(404, "no case 0")
        return {"id": case_id}

    app.add_middleware(MetricsMiddleware, metrics=metrics, access_log=True)
    client = TestClient(app)
    logger = logging.getLogger("sitewatch.access")
    logger.addHandler(caplog.handler)  # api.logs.configure() stops propagation to the root
    try:
        with caplog.at_level(logging.INFO, logger="sitewatch.access"):
            assert client.get("/api/v1/cases/7").status_code == 200
            assert client.get("/api/v1/cases/0").status_code == 404
            assert client.get("/nowhere").status_code == 404
    finally:
        logger.removeHandler(caplog.handler)
    lines = list({id(r): r for r in caplog.records if r.name == "sitewatch.access"}.values())
    got = [(r.method, r.route, r.status) for r in lines]  # type: ignore[attr-defined]
    assert got == [
        ("GET", "/api/v1/cases/{case_id}", 200),
        ("GET", "/api/v1/cases/{case_id}", 404),
        ("GET", "/nowhere", 404),
    ]
    assert all(r.ms >= 0 for r in lines)  # type: ignore[attr-defined]
    got_samples = samples(metrics.render().decode())
    key = (("method", "GET"), ("route", "/api/v1/cases/{case_id}"), ("status", "404"))
    assert got_samples[("sitewatch_http_requests_total", key)] == 1
    unmatched = (("method", "GET"), ("route", "<unmatched>"), ("status", "404"))
    assert got_samples[("sitewatch_http_requests_total", unmatched)] == 1

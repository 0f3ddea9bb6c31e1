"""Cookie sessions for the pages (HttpOnly, SameSite, CSRF on posts), slowed-down wrong
passwords, the scheduler inside the service, metrics and health."""

from __future__ import annotations

import time

from api.deps import CSRF_COOKIE, SESSION_COOKIE
from tests.api.conftest import PASSWORD, Api, new_case


def test_cookie_session_needs_the_csrf_token_on_posts(api: Api) -> None:
    c = api.client
    r = c.post("/api/v1/auth/session", data={"username": "operator", "password": PASSWORD})
    assert r.status_code == 200
    cookie = r.headers.get_list("set-cookie")
    session = next(h for h in cookie if h.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in session and "SameSite=lax" in session
    assert any(h.startswith(CSRF_COOKIE + "=") and "HttpOnly" not in h for h in cookie)
    token = r.json()["csrf_token"]
    cid = new_case(api)
    assert c.get(f"/api/v1/cases/{cid}").status_code == 200  # reads need no token
    no = c.post(f"/api/v1/cases/{cid}/transitions", json={"name": "confirm"})
    assert no.status_code == 403 and "CSRF" in no.text
    wrong = c.post(
        f"/api/v1/cases/{cid}/transitions",
        json={"name": "confirm"},
        headers={"X-CSRF-Token": token[:-2] + "xx"},
    )
    assert wrong.status_code == 403
    ok = c.post(
        f"/api/v1/cases/{cid}/transitions",
        json={"name": "confirm"},
        headers={"X-CSRF-Token": token},
    )
    assert ok.status_code == 201
    form = c.post(
        f"/api/v1/cases/{cid}/transitions",
        data={"name": "rule_illegal", "csrf_token": token},
        files=[("files", ("x.jpg", b"", "image/jpeg"))],
    )
    assert form.status_code in (400, 403, 415, 422)  # an empty file, refused; but not for CSRF
    assert "CSRF" not in form.text
    c.post("/api/v1/auth/logout")
    c.cookies.clear()
    assert c.get(f"/api/v1/cases/{cid}").status_code == 401


def test_repeated_wrong_passwords_are_slowed_down(api: Api) -> None:
    codes = [
        api.client.post(
            "/api/v1/auth/token", data={"username": "leader", "password": "x" * 9}
        ).status_code
        for _ in range(6)
    ]
    assert codes[0] == 401 and 429 in codes
    r = api.client.post("/api/v1/auth/token", data={"username": "leader", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1  # even the right one waits
    other = api.client.post(
        "/api/v1/auth/token", data={"username": "operator", "password": PASSWORD}
    )
    assert other.status_code == 200  # only that user name is slowed down


def test_scheduler_in_the_service_records_missed_deadlines(api: Api) -> None:
    from api.scheduler import Scheduler

    cid = new_case(api)
    api.client.post(
        f"/api/v1/cases/{cid}/transitions", json={"name": "confirm"}, headers=api.auth("operator")
    )
    api.clock.advance(days=3)
    sched = Scheduler(api.services, interval=0.05)
    sched.start()
    try:
        deadline = time.monotonic() + 10
        rows: list[dict[str, object]] = []
        while time.monotonic() < deadline and not rows:
            rows = api.client.get("/api/v1/accountability", headers=api.auth("office")).json()
            time.sleep(0.05)
        while time.monotonic() < deadline and sched.runs < 2:  # gauges are set after the scans
            time.sleep(0.05)
    finally:
        sched.stop()
    assert sched.runs >= 2
    overdue = [r for r in rows if r["kind"] == "stage_overdue"]
    assert [(r["case_id"], r["stage"], r["role"]) for r in overdue] == [
        (cid, "determine", "determiner")
    ]
    assert overdue[0]["late_hours"] == 24.0
    res = api.client.post(
        f"/api/v1/accountability/{overdue[0]['id']}/resolution",
        json={"resolution": "interviewed", "comment": "已约谈"},
        headers=api.auth("office"),
    )
    assert res.status_code == 200 and res.json()["status"] == "interviewed"
    metrics = api.client.get("/metrics").text
    assert 'sitewatch_cases{stage="determine"} 1.0' in metrics
    assert "sitewatch_cases_overdue 1.0" in metrics  # the determine stage is still open, and late
    assert 'outcome="created"' in metrics


def test_health_and_readiness(api: Api) -> None:
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").status_code == 200

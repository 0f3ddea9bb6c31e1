"""Every route × every role × own / foreign unit, generated from the route table
(api.policy.ROUTES), each cell asserted: a role the table does not name gets 403; a named
role gets its answer at home, and abroad a 404 for records it cannot see (403 for acting
on units it holds no grant for); anonymous callers get 401."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.accounts import add_user
from api.app import create_app
from api.policy import ROUTES
from models.enums import Role
from tests.api.conftest import FAST_PASSWORDS, PASSWORD, jpeg, make_settings
from tests.models.conftest import Clock, detection

HOME = {"inspector": "南屿镇/旗山村"}
AWAY = {"inspector": "上街镇/榕桥村"}
ROLES = [r for r in Role]


class Matrix:
    def __init__(self, client: TestClient, services: Any, clock: Clock) -> None:
        self.client, self.services, self.clock = client, services, clock
        self.auth: dict[str, dict[str, str]] = {"anonymous": {}}
        self.n = 100

    def add(self, name: str, role: Role, unit: str) -> None:
        with self.services.session() as s, s.begin():
            new = add_user(
                s,
                name=name,
                role=role,
                unit=unit,
                now=self.clock(),
                passwords=self.services.passwords,
                api_keys=self.services.api_keys,
                password=None if role == Role.WORKER else PASSWORD,
            )
        if role == Role.WORKER:
            self.auth[name] = {"Authorization": f"Bearer {new.secret}"}
            return
        r = self.client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
        self.auth[name] = {"Authorization": f"Bearer {r.json()['access_token']}"}

    def case(self, stage: str = "report") -> int:
        """A fresh camera case of 南屿镇/旗山村, moved on to ``stage`` by the admin users."""
        self.n += 1
        box = (
            5 + 37 * (self.n % 15),
            5 + 23 * (self.n // 15 % 12),
            30 + 37 * (self.n % 15),
            25 + 23 * (self.n // 15 % 12),
        )
        r = self.post_detection("setup_worker", detection(self.n, box))
        cid = int(r.json()["case_id"])
        steps = {
            "determine": [("setup_operator", {"name": "confirm"})],
            "rectify": [
                ("setup_operator", {"name": "confirm"}),
                ("setup_determiner", {"name": "rule_illegal"}),
            ],
        }
        for who, body in steps.get(stage, []):
            assert (
                self.client.post(
                    f"/api/v1/cases/{cid}/transitions", json=body, headers=self.auth[who]
                ).status_code
                == 201
            )
        return cid

    def post_detection(self, who: str, rec: dict[str, object]) -> Any:
        parts = {
            "detection": (None, json.dumps(rec), "application/json"),
            "snapshot": ("snapshot.jpg", jpeg(self.n), "image/jpeg"),
        }
        return self.client.post(
            "/api/v1/detections",
            files=parts,
            headers={**self.auth[who], "Idempotency-Key": f"{who}-{rec['id']}"},
        )


@pytest.fixture()
def matrix(database_url: str, tmp_path: Path) -> Iterator[Matrix]:
    clock = Clock()
    app = create_app(make_settings(database_url, tmp_path), clock=clock, run_scheduler=False)
    app.state.services.passwords = FAST_PASSWORDS
    with TestClient(app) as client:
        m = Matrix(client, app.state.services, clock)
        for role in ROLES:
            m.add(f"{role.value}_home", role, HOME.get(role.value, "南屿镇"))
            m.add(f"{role.value}_away", role, AWAY.get(role.value, "上街镇"))
        for role in (Role.WORKER, Role.OPERATOR, Role.DETERMINER, Role.ACCOUNTABILITY):
            m.add(f"setup_{role.value}", role, "闽侯县")
        yield m


def _evidence(m: Matrix, cid: int) -> int:
    case = m.client.get(f"/api/v1/cases/{cid}", headers=m.auth["setup_operator"]).json()
    return int(case["evidence"][0]["id"])


def _record(m: Matrix) -> int:
    """An open accountability record of 南屿镇/旗山村: a determine stage run late."""
    m.case("determine")
    m.clock.advance(days=3)
    from api.scheduler import scan_once

    scan_once(m.services)
    rows = m.client.get(
        "/api/v1/accountability?status=open", headers=m.auth["setup_accountability"]
    ).json()
    return int(rows[0]["id"])


def _message(m: Matrix, who: str) -> int:
    """An inbox message of ``who`` (none for anonymous callers: any id is a 401)."""
    if who == "anonymous":
        return 1
    import sqlalchemy as sa

    from models import notify
    from models.tables import Notification, User

    with m.services.session() as s, s.begin():
        user = s.scalars(sa.select(User).where(User.name == who)).one()
        m.n += 1
        notify.queue(s, notify.NotifyPolicy(), event=f"test:{m.n}", kind="stage", users=[user],
                     facts={"case": None, "stage": "report", "unit": "", "deadline": ""},
                     now=m.clock())  # fmt: skip
        return int(s.scalars(sa.select(Notification.id).where(
            Notification.event == f"test:{m.n}")).one())  # fmt: skip


TRANSITION_FOR = {  # the move each acting role makes, and the stage its case must be in
    "operator": ("report", {"name": "confirm"}),
    "inspector": ("report", {"name": "confirm"}),
    "determiner": ("determine", {"name": "rule_illegal"}),
    "rectifier": ("rectify", {"name": "rectified", "area_m2": "10"}),
    "supervisor": ("report", {"name": "verified"}),  # wrong stage: answered 409, not 403/404
}

Call = Callable[[Matrix, str, str], Any]


def _transition(m: Matrix, who: str, role: str) -> Any:
    stage, body = TRANSITION_FOR.get(role, ("report", {"name": "confirm"}))
    cid = m.case(stage)
    if body["name"] == "rectified":
        return m.client.post(
            f"/api/v1/cases/{cid}/transitions",
            data=body,
            headers=m.auth[who],
            files=[("files", ("a.jpg", jpeg(1), "image/jpeg"))],
        )
    return m.client.post(f"/api/v1/cases/{cid}/transitions", json=body, headers=m.auth[who])


CALLS: dict[str, Call] = {
    "me": lambda m, who, role: m.client.get("/api/v1/me", headers=m.auth[who]),
    "users.list": lambda m, who, role: m.client.get("/api/v1/users", headers=m.auth[who]),
    "me.notify": lambda m, who, role: m.client.put(
        "/api/v1/me/notify", json={"email": f"{who}@example.org"}, headers=m.auth[who]
    ),
    "detections.ingest": lambda m, who, role: m.post_detection(who, detection(m.n + 500)),
    "cameras.heartbeat": lambda m, who, role: m.client.post(
        "/api/v1/cameras/cam1/heartbeat", json={"state": "online"}, headers=m.auth[who]
    ),
    "cameras.list": lambda m, who, role: m.client.get("/api/v1/cameras", headers=m.auth[who]),
    "cases.list": lambda m, who, role: m.client.get(
        "/api/v1/cases?camera=cam1", headers=m.auth[who]
    ),
    "cases.get": lambda m, who, role: m.client.get(
        f"/api/v1/cases/{m.case()}", headers=m.auth[who]
    ),
    "cases.transitions": lambda m, who, role: m.client.get(
        f"/api/v1/cases/{m.case()}/transitions", headers=m.auth[who]
    ),
    "cases.transition": _transition,
    "cases.dossier": lambda m, who, role: m.client.get(
        f"/api/v1/cases/{m.case()}/dossier.pdf", headers=m.auth[who]
    ),
    "evidence.get": lambda m, who, role: m.client.get(
        f"/api/v1/evidence/{_evidence(m, m.case())}", headers=m.auth[who]
    ),
    "reports.create": lambda m, who, role: m.client.post(
        "/api/v1/reports",
        headers=m.auth[who],
        files=[("photos", ("p.jpg", jpeg(2), "image/jpeg"))],
        data={"unit": "南屿镇/旗山村", "lon": "119.2", "lat": "26.0"},
    ),
    "checkins.create": lambda m, who, role: m.client.post(
        "/api/v1/checkins", json={"unit": "南屿镇/旗山村"}, headers=m.auth[who]
    ),
    "checkins.list": lambda m, who, role: m.client.get("/api/v1/checkins", headers=m.auth[who]),
    "accountability.list": lambda m, who, role: m.client.get(
        "/api/v1/accountability", headers=m.auth[who]
    ),
    "accountability.resolve": lambda m, who, role: m.client.post(
        f"/api/v1/accountability/{_record(m)}/resolution",
        headers=m.auth[who],
        json={"resolution": "waived", "comment": "不可抗力"},
    ),
    "stats.get": lambda m, who, role: m.client.get(
        "/api/v1/stats?unit=南屿镇/旗山村", headers=m.auth[who]
    ),
    "exports.cases": lambda m, who, role: m.client.get(
        "/api/v1/exports/cases.csv?camera=cam1", headers=m.auth[who]
    ),
    "inbox.list": lambda m, who, role: m.client.get("/api/v1/inbox", headers=m.auth[who]),
    "inbox.read": lambda m, who, role: m.client.post(
        f"/api/v1/inbox/{_message(m, who)}/read", headers=m.auth[who]
    ),
    "notifications.failed": lambda m, who, role: m.client.get(
        "/api/v1/notifications/failed", headers=m.auth[who]
    ),
    "exports.stats": lambda m, who, role: m.client.get(
        "/api/v1/exports/stats.csv?unit=南屿镇/旗山村", headers=m.auth[who]
    ),
}

# A caller abroad may list, but the records of 南屿镇 are not in the list.
LISTS = {
    "cases.list",
    "cameras.list",
    "checkins.list",
    "accountability.list",
    "exports.cases",
    "me",
    "users.list",
}
UNSCOPED = {"me", "me.notify", "users.list", "inbox.list", "inbox.read", "notifications.failed"}


def expected(route: str, role: str, home: bool) -> set[int]:
    rule = ROUTES[route]
    assert rule.roles is not None
    if role not in {r.value for r in rule.roles}:
        return {403}
    if home or role == "leader" or route in UNSCOPED:
        if route == "cases.transition" and role == "supervisor":
            return {409}
        return (
            {201}
            if rule.action and route != "accountability.resolve" and route != "cameras.heartbeat"
            else ({204} if route == "cameras.heartbeat" else {200})
        )
    if route in LISTS:
        return {200}
    return (
        {403}
        if route in ("detections.ingest", "cameras.heartbeat", "reports.create", "checkins.create")
        else {404}
    )


def _leaks(route: str, response: Any) -> bool:
    """Whether a list answered abroad shows anything of 南屿镇."""
    if route == "exports.cases":
        return len(response.content.decode("utf-8-sig").strip().splitlines()) > 1
    body = response.json()
    items = body["items"] if isinstance(body, dict) and "items" in body else body
    if isinstance(body, dict) and "units" in body:
        items = body["units"]
    text = json.dumps(items, ensure_ascii=False)
    return "南屿镇" in text or '"cam1"' in text


def test_every_route_has_a_call_and_every_app_route_is_in_the_table(matrix: Matrix) -> None:
    guarded = {n for n, r in ROUTES.items() if r.roles is not None and r.path.startswith("/api/")}
    assert guarded == set(CALLS)  # the pages' own matrix is in tests/pages
    spec = matrix.client.get("/openapi.json").json()["paths"]
    table = {(r.method.lower(), r.path) for r in ROUTES.values()}
    served = {(m, p) for p, ops in spec.items() for m in ops}
    assert served - table == set(), f"routes missing from api.policy.ROUTES: {served - table}"
    for p, ops in spec.items():
        for m, op in ops.items():
            assert "Roles:" in op["description"] or "Public." in op["description"], (m, p)


def test_allow_deny_matrix(matrix: Matrix) -> None:
    failures = []
    for route, call in CALLS.items():
        r = call(matrix, "anonymous", "anonymous")
        if r.status_code != 401:
            failures.append(f"{route} anonymous: {r.status_code}")
        for role in ROLES:
            for home in (True, False):
                who = f"{role.value}_{'home' if home else 'away'}"
                r = call(matrix, who, role.value)
                want = expected(route, role.value, home)
                if r.status_code not in want:
                    failures.append(f"{route} {who}: {r.status_code} (want {want}) {r.text[:120]}")
                elif (
                    not home
                    and route in LISTS - UNSCOPED
                    and role != Role.LEADER
                    and r.status_code == 200
                    and _leaks(route, r)
                ):
                    failures.append(f"{route} {who}: lists records of 南屿镇")
    assert not failures, "\n".join(failures)

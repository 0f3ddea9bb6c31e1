"""The pages on the API of tests/api (same district, users, clock), plus cookie sign-in."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import PASSWORD, Api, api, jpeg, new_case  # noqa: F401 - fixtures

ROLES = (
    "inspector",
    "operator",
    "determiner",
    "rectifier",
    "supervisor",
    "office",
    "leader",
    "admin",
)


def cookie_client(a: Api, who: str) -> TestClient:
    """A client signed in through the pages' cookie session (as the login page does)."""
    c = TestClient(a.client.app)
    r = c.post("/api/v1/auth/session", data={"username": who, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c

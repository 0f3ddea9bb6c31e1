"""``FastIngest`` (POST /api/v1/detections served without the router's scan and FastAPI's
dependency solving) answers every request as the route itself does, hands the requests it
does not take (no or a malformed Idempotency-Key, no bearer credential) to the route, and
counts its requests under the route's template."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from api.routes import detections
from tests.api.conftest import Api
from tests.models.conftest import detection


def _answers(api: Api, base: int) -> list[tuple[int, Any, str | None]]:
    """A new detection, its repeat, its key with another body, an operator's token, a
    broken record, an unexpected part, a bad box, a foreign worker's… (status, body,
    WWW-Authenticate); ids left out, as they differ between runs."""
    box = (base * 4, base * 4, base * 4 + 100, base * 4 + 80)  # apart from the other run's
    rec = detection(base, box)
    out = []

    def keep(r: httpx.Response) -> None:
        body = r.json()
        if isinstance(body, dict):
            body = {k: v for k, v in body.items() if k not in ("detection_id", "case_id")}
        out.append((r.status_code, body, r.headers.get("www-authenticate")))

    keep(api.ingest(rec, key=f"k{base}"))  # type: ignore[arg-type]
    keep(api.ingest(rec, key=f"k{base}"))  # type: ignore[arg-type]
    keep(api.ingest({**rec, "score": 0.5}, key=f"k{base}"))  # type: ignore[arg-type]
    keep(api.ingest(detection(base + 1, box), key=f"o{base}", who="operator"))  # type: ignore[arg-type]
    keep(api.ingest(detection(base + 2, box), key=f"b{base}", files={}))  # type: ignore[arg-type]
    headers = {**api.auth("worker"), "Idempotency-Key": f"j{base}"}
    for parts in (
        {"detection": (None, "{not json", "application/json")},
        {"detection": (None, json.dumps(rec), "application/json"), "x": ("x.bin", b"1", "a/b")},
        {"detection": (None, json.dumps({**rec, "bbox": [5, 5, 1, 1]}), "application/json")},
    ):
        keep(api.client.post("/api/v1/detections", files=parts, headers=headers))
    keep(api.client.post("/api/v1/detections", headers=headers))  # no body at all
    bad = {"Authorization": "Bearer nonsense", "Idempotency-Key": f"n{base}"}
    keep(api.client.post("/api/v1/detections", files={"detection": (None, "{}")}, headers=bad))
    return out


def test_the_fast_path_answers_as_the_route_does(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    routed: list[bool] = []  # whether the router handled the call (it sets "endpoint")
    real = detections.ingest_request

    async def spy(request: Any, principal: Any, key: str) -> Any:
        routed.append("endpoint" in request.scope)
        return await real(request, principal, key)

    monkeypatch.setattr(detections, "ingest_request", spy)
    fast = _answers(api, 100)
    assert [a[0] for a in fast] == [201, 200, 422, 403, 201, 422, 422, 422, 422, 401]
    assert routed and not any(routed)

    async def route_only(self: detections.FastIngest, scope: Scope, r: Receive, s: Send) -> None:
        await self.app(scope, r, s)

    monkeypatch.setattr(detections.FastIngest, "__call__", route_only)
    routed.clear()
    assert _answers(api, 200) == fast
    assert routed and all(routed)


@pytest.mark.parametrize(
    ("headers", "status", "loc"),
    [
        ({"Idempotency-Key": ""}, 422, ["header", "Idempotency-Key"]),
        ({"Idempotency-Key": "k" * 201}, 422, ["header", "Idempotency-Key"]),
        ({}, 422, ["header", "Idempotency-Key"]),
    ],
)
def test_requests_it_does_not_take_get_the_routes_own_answer(
    api: Api, headers: dict[str, str], status: int, loc: list[str]
) -> None:
    r = api.client.post(
        "/api/v1/detections",
        files={"detection": (None, json.dumps(detection(7)), "application/json")},
        headers={**api.auth("worker"), **headers},
    )
    assert r.status_code == status, r.text
    assert r.json()["detail"][0]["loc"] == loc  # FastAPI's validation error list


def test_no_credential_is_the_routes_401(api: Api) -> None:
    r = api.client.post(
        "/api/v1/detections",
        files={"detection": (None, json.dumps(detection(8)), "application/json")},
        headers={"Idempotency-Key": "x8"},
    )
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_its_requests_are_counted_under_the_route_template(api: Api) -> None:
    assert api.ingest(detection(9), key="m9").status_code == 201  # type: ignore[attr-defined]
    text = api.client.get("/metrics").text
    line = 'sitewatch_http_requests_total{method="POST",route="/api/v1/detections",status="201"}'
    assert line in text

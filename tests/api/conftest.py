"""An API on a fresh database (PostgreSQL when reachable, else SQLite) with a hand-moved
clock, the district of tests/models, and signed-in clients for every role."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from api.accounts import add_user
from api.app import create_app
from api.deps import Services
from api.security import Passwords
from api.settings import ApiSettings
from models.policy import WorkflowPolicy
from tests.models.conftest import PEOPLE, SPEC, TZ, Clock, detection

PASSWORD = "correct horse 1"
# Argon2 still, at its lowest cost: the tests sign in dozens of users
FAST_PASSWORDS = Passwords(PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1),)))


@dataclass
class Api:
    client: TestClient
    services: Services
    clock: Clock
    tokens: dict[str, str] = field(default_factory=dict)
    worker_key: str = ""

    def auth(self, who: str) -> dict[str, str]:
        if who == "worker":
            return {"Authorization": f"Bearer {self.worker_key}"}
        if who == "anonymous":
            return {}
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def ingest(
        self,
        rec: dict[str, object],
        key: str | None = None,
        who: str = "worker",
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> object:
        parts = {"detection": (None, json.dumps(rec), "application/json")}
        parts.update(
            files if files is not None else {"snapshot": ("snapshot.jpg", jpeg(), "image/jpeg")}
        )
        return self.client.post(
            "/api/v1/detections",
            files=parts,
            headers={**self.auth(who), "Idempotency-Key": key or str(rec["id"])},
        )


def jpeg(seed: int = 0, size: tuple[int, int] = (64, 48)) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def make_settings(url: str, root: Path) -> ApiSettings:
    from models.calendar import WorkCalendar

    return ApiSettings(
        database_url=url,
        secret_key=b"s" * 40,
        public_url="http://testserver",
        token_ttl_s=3600,
        evidence_dir=root / "evidence",
        upload_limits={
            "image/jpeg": 2 << 20,
            "image/png": 2 << 20,
            "video/mp4": 8 << 20,
            "application/pdf": 2 << 20,
        },
        policy=WorkflowPolicy(calendar=WorkCalendar(tz=TZ)),
        site=SPEC,
    )


@pytest.fixture()
def api(database_url: str, tmp_path: Path) -> Iterator[Api]:
    clock = Clock()
    app = create_app(make_settings(database_url, tmp_path), clock=clock, run_scheduler=False)
    services: Services = app.state.services
    services.passwords = FAST_PASSWORDS  # the production Argon2 cost, ×20 users, is seconds
    worker_key = ""
    with services.session() as s, s.begin():
        for name, role, unit in PEOPLE:
            new = add_user(
                s,
                name=name,
                role=role,
                unit=unit or "闽侯县",
                now=clock(),
                passwords=services.passwords,
                api_keys=services.api_keys,
                password=None if role.value == "worker" else PASSWORD,
            )
            if role.value == "worker":
                worker_key = new.secret
    with TestClient(app) as client:
        a = Api(client, services, clock, worker_key=worker_key)
        for name, role, _ in PEOPLE:
            if role.value != "worker":
                r = client.post("/api/v1/auth/token", data={"username": name, "password": PASSWORD})
                assert r.status_code == 200, r.text
                a.tokens[name] = r.json()["access_token"]
        yield a


def new_case(api: Api, n: int = 1, camera: str = "cam1") -> int:
    zone = "yard" if camera == "cam1" else "field"
    box = (
        10 + 150 * (n % 4),
        10 + 100 * (n // 4 % 3),
        120 + 150 * (n % 4),
        90 + 100 * (n // 4 % 3),
    )
    r = api.ingest(detection(n, box, camera=camera, zone=zone))
    assert r.status_code in (200, 201), r.text  # type: ignore[attr-defined]
    return int(r.json()["case_id"])  # type: ignore[attr-defined]


__all__ = ["Api", "dt", "jpeg", "new_case"]

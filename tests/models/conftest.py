"""A small district on a fresh database (SQLite and PostgreSQL both), users for every role,
and a clock the tests move by hand."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from models.access import actor_for, unit_by_ref
from models.calendar import WorkCalendar
from models.enums import Role
from models.policy import WorkflowPolicy
from models.sync import CameraSpec, SiteSpec, ZoneSpec, sync_site
from models.tables import Base, User
from models.users import create_user
from models.workflow import Actor, FileRef
from sitewatch.db import make_engine
from tests.conftest import _postgres_reachable

TZ = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-30, 09:00 in the district
T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=TZ)

SPEC = SiteSpec(
    district="闽侯县",
    towns={"南屿镇": ["旗山村", "南井村"], "上街镇": ["榕桥村"]},
    cameras=(
        CameraSpec("cam1", "旗山村村口", (ZoneSpec("yard", "院子", "南屿镇/旗山村"),)),
        CameraSpec("cam2", "榕桥村", (ZoneSpec("field", "农田", "上街镇/榕桥村"),)),
    ),
)

# who holds what: (user, role, unit path below the district)
PEOPLE = [
    ("inspector", Role.INSPECTOR, "南屿镇/旗山村"),
    ("operator", Role.OPERATOR, "南屿镇"),
    ("determiner", Role.DETERMINER, "南屿镇"),
    ("rectifier", Role.RECTIFIER, "南屿镇"),
    ("supervisor", Role.SUPERVISOR, "南屿镇"),
    ("office", Role.ACCOUNTABILITY, ""),
    ("leader", Role.LEADER, ""),
    ("admin", Role.ADMIN, ""),
    ("worker", Role.WORKER, ""),
    # the same roles in the other town: foreign to 南屿镇's cases
    ("operator2", Role.OPERATOR, "上街镇"),
    ("determiner2", Role.DETERMINER, "上街镇"),
    ("inspector2", Role.INSPECTOR, "上街镇/榕桥村"),
]


def _pg_url() -> Iterator[str]:
    name = f"sitewatch_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        "postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test of the case domain runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'cases.db'}"
        return
    if os.environ.get("SITEWATCH_TEST_DB") == "sqlite" or not _postgres_reachable():
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    yield from _pg_url()


@pytest.fixture()
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    Base.metadata.create_all(eng)
    try:
        yield eng
    finally:
        eng.dispose()


class Clock:
    def __init__(self, start: dt.datetime = T0) -> None:
        self.t = start

    def __call__(self) -> dt.datetime:
        return self.t

    def advance(self, **kw: float) -> dt.datetime:
        self.t += dt.timedelta(**kw)
        return self.t


@dataclass
class World:
    engine: Engine
    policy: WorkflowPolicy
    clock: Clock
    users: dict[str, int] = field(default_factory=dict)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def actor(self, name: str) -> Actor:
        with self.session() as s:
            user = s.get(User, self.users[name])
            assert user is not None
            return actor_for(s, user)

    def tx(self, fn: Callable[[Session], object]) -> object:
        with self.session() as s, s.begin():
            return fn(s)


def make_policy(working: bool = False) -> WorkflowPolicy:
    return WorkflowPolicy(calendar=WorkCalendar(tz=TZ, working_days=working))


@pytest.fixture()
def world(engine: Engine) -> World:
    w = World(engine, make_policy(), Clock())
    with w.session() as s, s.begin():
        sync_site(s, SPEC, now=w.clock())
        for name, role, unit in PEOPLE:
            u = unit_by_ref(s, unit or "闽侯县")
            user = create_user(s, name, now=w.clock(), display_name=name, roles=((role, u),))
            w.users[name] = user.id
    return w


def photo(n: int = 1, media_type: str = "image/jpeg", kind: str = "photo") -> FileRef:
    digest = f"{n:064x}"
    return FileRef(digest, media_type, 1000 + n, f"blobs/{digest[:2]}/{digest}", kind, f"p{n}.jpg")


def detection(
    n: int = 1,
    box: tuple[float, ...] = (100, 100, 200, 180),
    event: str = "confirmed",
    camera: str = "cam1",
    zone: str = "yard",
) -> dict[str, object]:
    return {
        "event": event,
        "camera": camera,
        "zone": zone,
        "unit": "南屿镇/旗山村",
        "bbox": list(box),
        "first_seen_s": 100.0 * n,
        "confirmed_s": 100.0 * n + 7200,
        "gone_s": None,
        "score": 0.91,
        "label": "steel_roof_shed",
        "frame_size": [640, 360],
        "id": f"{n:016x}",
    }

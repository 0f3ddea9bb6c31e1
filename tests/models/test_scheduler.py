"""Overdue stages and missed check-ins each create exactly one accountability record,
also when two schedulers scan at the same moment on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import checkins, scheduler
from models.access import unit_by_ref
from models.enums import Resolution
from models.tables import Accountability
from models.workflow import Refusal
from tests.models.conftest import World, detection
from tests.models.test_lifecycle import _ingest, _take


def _count(w: World) -> list[Accountability]:
    with w.session() as s:
        return list(s.scalars(sa.select(Accountability).order_by(Accountability.id)))


def _scan(w: World) -> int:
    with w.session() as s, s.begin():
        return scheduler.scan_overdue(s, now=w.clock())


def test_each_missed_deadline_answered_once(world: World) -> None:
    w = world
    cid = _ingest(w, detection(1)).case_id
    assert cid is not None
    _take(w, cid, "confirm", "operator")
    w.clock.advance(days=1, hours=23)
    assert _scan(w) == 0  # not yet due
    w.clock.advance(hours=2)
    assert _scan(w) == 1 and _scan(w) == 0
    rec = _count(w)[0]
    assert (rec.stage, rec.role, rec.kind) == ("determine", "determiner", "stage_overdue")
    assert rec.late_seconds == pytest.approx(3600)
    w.clock.advance(hours=5)
    _take(w, cid, "rule_illegal", "determiner")  # late: already on record, not again
    assert _scan(w) == 0
    # rectify finished late before any scan ran: still one record for it
    w.clock.advance(days=4)
    _take(w, cid, "rectified", "rectifier", area_m2=10.0, files=(_photo(),))
    assert _scan(w) == 1
    assert [r.stage for r in _count(w)] == ["determine", "rectify"]


def _photo():  # type: ignore[no-untyped-def]
    from tests.models.conftest import photo

    return photo(5)


def test_accountability_office_resolves_once_with_a_comment(world: World) -> None:
    w = world
    cid = _ingest(w, detection(1)).case_id
    assert cid is not None
    _take(w, cid, "confirm", "operator")
    w.clock.advance(days=3)
    _scan(w)
    rid = _count(w)[0].id
    office, operator = w.actor("office"), w.actor("operator")
    with w.session() as s, s.begin(), pytest.raises(Refusal) as err:
        scheduler.resolve(
            s, rid, actor=office, resolution=Resolution.WAIVED, comment="", now=w.clock()
        )
    assert err.value.code == "missing_field"
    with w.session() as s, s.begin(), pytest.raises(Refusal) as err:
        scheduler.resolve(
            s, rid, actor=operator, resolution=Resolution.WAIVED, comment="x", now=w.clock()
        )
    assert err.value.code == "not_permitted"
    with w.session() as s, s.begin():
        scheduler.resolve(
            s,
            rid,
            actor=office,
            resolution=Resolution.INTERVIEWED,
            comment="已约谈认定科负责人",
            now=w.clock(),
        )
    with w.session() as s, s.begin(), pytest.raises(Refusal) as err:
        scheduler.resolve(
            s, rid, actor=office, resolution=Resolution.SANCTIONED, comment="再次", now=w.clock()
        )
    assert err.value.code == "conflict"
    assert _count(w)[0].status == "interviewed"


def test_daily_check_in_zero_report_cases_and_missed_cut_off(world: World) -> None:
    w = world
    inspector, inspector2 = w.actor("inspector"), w.actor("inspector2")
    cid = _ingest(w, detection(1)).case_id
    with w.session() as s, s.begin():
        qishan = unit_by_ref(s, "南屿镇/旗山村")
        checkins.check_in(
            s, w.policy, actor=inspector, unit=qishan, now=w.clock(), case_ids=[cid or 0]
        )
    with w.session() as s, s.begin(), pytest.raises(Refusal) as err:
        checkins.check_in(
            s, w.policy, actor=inspector, unit=unit_by_ref(s, "南屿镇/旗山村"), now=w.clock()
        )
    assert err.value.code == "conflict"
    with w.session() as s, s.begin(), pytest.raises(Refusal) as err:
        checkins.check_in(
            s, w.policy, actor=inspector, unit=unit_by_ref(s, "南屿镇/南井村"), now=w.clock()
        )
    assert err.value.code == "foreign_unit"
    with w.session() as s, s.begin(), pytest.raises(Refusal) as err:  # not a case of 榕桥村
        checkins.check_in(
            s,
            w.policy,
            actor=inspector2,
            unit=unit_by_ref(s, "上街镇/榕桥村"),
            now=w.clock(),
            case_ids=[cid or 0],
        )
    assert err.value.code == "invalid_field"
    with w.session() as s, s.begin():
        checkins.check_in(
            s, w.policy, actor=inspector2, unit=unit_by_ref(s, "上街镇/榕桥村"), now=w.clock()
        )  # 零报告
    day = dt.date(2026, 11, 30)
    with w.session() as s:
        table = {r.unit: r.status for r in checkins.day_table(s, day)}
    assert table == {
        "闽侯县/上街镇/榕桥村": "zero",
        "闽侯县/南屿镇/南井村": "missing",
        "闽侯县/南屿镇/旗山村": "cases",
    }

    def scan() -> int:
        with w.session() as s, s.begin():
            return scheduler.scan_checkins(s, w.policy, now=w.clock())

    assert scan() == 0  # 09:00, before the 18:00 cut-off
    w.clock.advance(hours=9, minutes=1)
    assert scan() == 1 and scan() == 0
    w.clock.advance(days=1)  # the next evening: all three missed that day
    assert scan() == 3
    recs = [r for r in _count(w) if r.kind == "checkin_missed"]
    assert sorted((str(r.day), r.role) for r in recs)[0] == ("2026-11-30", "inspector")
    assert len(recs) == 4


def test_two_schedulers_at_once_create_each_record_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both scans see the same overdue runs before either inserts (a barrier makes sure);
    the unique key lets one of them insert each record."""
    w = world
    for n in range(4):
        cid = _ingest(w, detection(n + 1, (100 + 120 * n, 100, 200 + 120 * n, 180))).case_id
        assert cid is not None
        _take(w, cid, "confirm", "operator")
    w.clock.advance(days=3)
    barrier = threading.Barrier(2, timeout=30)
    real = scheduler._insert_once
    seen: set[int] = set()

    def synced(session: Session, values: dict[str, object]) -> bool:
        ident = threading.get_ident()
        if ident not in seen:
            seen.add(ident)
            barrier.wait()
        return real(session, values)

    monkeypatch.setattr(scheduler, "_insert_once", synced)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(_scan(w))
        except BaseException as exc:
            errors.append(exc)

    if w.engine.dialect.name == "sqlite":  # SQLite serialises writers: no overlap to test
        pytest.skip("concurrent scanners are a PostgreSQL test (SQLite serialises writers)")
    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(results) == [0, 4] or sum(results) == 4
    assert len(_count(w)) == 4
    with w.session() as s:
        from models.audit import verify

        assert verify(s).ok

"""The leaders' numbers from a small known history: by town and stage, on-time rates,
handling times, demolished area by town, false alarms per camera and zone."""

from __future__ import annotations

import datetime as dt

import pytest

from models import stats
from tests.models.conftest import T0, World, detection, photo
from tests.models.test_lifecycle import _ingest, _take


def _history(w: World) -> list[int]:
    ids = []
    for n in range(4):
        r = _ingest(w, detection(n + 1, (10 + 150 * n, 10, 120 + 150 * n, 90)))
        assert r.case_id is not None
        ids.append(r.case_id)
    other = _ingest(w, detection(9, camera="cam2", zone="field")).case_id
    assert other is not None
    a, b, c, _pending = ids
    _take(w, a, "dismiss", "operator", reason="阴影")
    for cid in (b, c):
        _take(w, cid, "confirm", "operator")
    _take(w, other, "confirm", "operator2")
    w.clock.advance(days=1)
    _take(w, b, "rule_illegal", "determiner")  # on time (1 day of 2)
    w.clock.advance(days=2)
    _take(w, c, "rule_illegal", "determiner")  # late (3 days of 2)
    for cid, area in ((b, 120.0), (c, 30.5)):
        _take(w, cid, "rectified", "rectifier", area_m2=area, files=(photo(cid),))
    w.clock.advance(days=1)
    for cid in (b, c):
        _take(w, cid, "verified", "supervisor")
    return ids + [other]


def test_statistics_of_a_known_history(world: World) -> None:
    w = world
    _history(w)
    period = stats.Period(T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=30))
    with w.session() as s:
        by_town = stats.cases_by_unit_stage(s, period)
        by_village = stats.cases_by_unit_stage(s, period, level="village")
        timing = {t.stage: t for t in stats.stage_timing(s, period, now=w.clock())}
        whole = stats.case_timing(s, period, w.policy)
        area = stats.demolished_by_town(s, period, w.policy, bucket="day")
        reviews = stats.reviews_by_zone(s, period)
        only_shangjie = stats.cases_by_unit_stage(s, period, within="闽侯县/上街镇")
    assert by_town["南屿镇"]["closed"] == 3 and by_town["南屿镇"]["report"] == 1
    assert by_town["上街镇"]["determine"] == 1
    assert by_village["南屿镇/旗山村"]["closed"] == 3
    assert set(only_shangjie) == {"上街镇"}
    det = timing["determine"]
    assert (det.role, det.finished, det.on_time, det.overdue_open) == ("determiner", 2, 1, 1)
    assert det.on_time_rate == 0.5
    assert det.mean_hours == pytest.approx((24 + 72) / 2) and det.p90_hours == pytest.approx(72)
    assert timing["verify"].finished == 2 and timing["verify"].on_time == 2
    assert whole.closed == 3 and whole.within_target == 3
    assert area == {"南屿镇": {"2026-12-04": 150.5}}
    cam1 = next(r for r in reviews if r.camera == "cam1")
    assert (cam1.confirmed, cam1.dismissed, cam1.pending) == (2, 1, 1)
    assert cam1.false_alarm_rate == pytest.approx(1 / 3)


def test_percentile_and_empty_periods() -> None:
    assert stats.p90([]) is None
    assert stats.p90([float(v) for v in range(1, 11)]) == 9.0
    with pytest.raises(ValueError, match="after start"):
        stats.Period(T0, T0)


def test_statistics_stay_within_a_unit(world: World) -> None:
    w = world
    _history(w)
    period = stats.Period(T0 - dt.timedelta(days=1), T0 + dt.timedelta(days=30))
    with w.session() as s:
        town = "闽侯县/上街镇"
        timing = {t.stage: t for t in stats.stage_timing(s, period, now=w.clock(), within=town)}
        whole = stats.case_timing(s, period, w.policy, within=town)
        area = stats.demolished_by_town(s, period, w.policy, within=town)
        reviews = stats.reviews_by_zone(s, period, within=town)
    assert timing["determine"].finished == 0 and timing["determine"].overdue_open == 1
    assert whole.closed == 0 and area == {}
    assert [(r.camera, r.confirmed) for r in reviews] == [("cam2", 1)]

"""Deadlines across weekends, holidays, make-up working days and time-zone boundaries."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.calendar import WorkCalendar
from models.enums import Stage
from models.policy import WorkflowPolicy

SH = ZoneInfo("Asia/Shanghai")
NATIONAL_DAY = frozenset(dt.date(2026, 10, d) for d in range(1, 8))


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def test_calendar_days_keep_the_local_time_of_day() -> None:
    cal = WorkCalendar(tz=SH)
    assert cal.add_days(local(2026, 12, 4, 15, 0), 2) == local(2026, 12, 6, 15, 0)


def test_working_days_skip_the_weekend() -> None:
    cal = WorkCalendar(tz=SH, working_days=True)
    # Friday 15:00 + 2 working days → Tuesday 15:00
    assert cal.add_days(local(2026, 12, 4, 15, 0), 2) == local(2026, 12, 8, 15, 0)
    # reported on Saturday: counted from Monday's start, due at Tuesday's end
    assert cal.add_days(local(2026, 12, 5, 11, 0), 2) == local(2026, 12, 9, 0, 0)


def test_holidays_and_make_up_working_days() -> None:
    cal = WorkCalendar(
        tz=SH, working_days=True, holidays=NATIONAL_DAY, workdays=frozenset({dt.date(2026, 10, 10)})
    )
    # Wednesday 30 September + 2 working days: 1–7 October off, Thursday 8th is the first
    assert cal.add_days(local(2026, 9, 30, 10, 0), 2) == local(2026, 10, 9, 10, 0)
    # Friday 9 October + 1 → Saturday 10th, a make-up working day (调休)
    assert cal.add_days(local(2026, 10, 9, 10, 0), 1) == local(2026, 10, 10, 10, 0)


def test_time_zone_boundary_counts_the_site_s_day_not_utc() -> None:
    cal = WorkCalendar(tz=SH, working_days=True)
    # 17:30 UTC on Friday is 01:30 on Saturday in Shanghai: not a working day there
    start = dt.datetime(2026, 12, 4, 17, 30, tzinfo=dt.UTC)
    due = cal.add_days(start, 1)
    assert due == local(2026, 12, 8, 0, 0) and due.tzinfo == dt.UTC
    assert cal.local_day(start) == dt.date(2026, 12, 5)


def test_policy_deadlines_and_target() -> None:
    p = WorkflowPolicy(calendar=WorkCalendar(tz=SH))
    t = local(2026, 11, 30, 9, 0)
    assert p.deadline(Stage.REPORT, t) is None
    assert p.deadline(Stage.DETERMINE, t) == t + dt.timedelta(days=2)
    assert p.deadline(Stage.RECTIFY, t) == t + dt.timedelta(days=3)
    assert p.target(t) == t + dt.timedelta(days=7)
    assert p.cutoff(dt.date(2026, 11, 30)) == local(2026, 11, 30, 18, 0)


def test_naive_times_and_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        WorkCalendar().add_days(dt.datetime(2026, 1, 1), 1)
    with pytest.raises(ValueError, match="≥ 1 day"):
        WorkflowPolicy(stage_days={Stage.VERIFY: 0})
    with pytest.raises(ValueError, match="no working day"):
        every_day = frozenset(dt.date(2027, 1, 1) + dt.timedelta(days=i) for i in range(400))
        WorkCalendar(working_days=True, holidays=every_day).add_days(local(2027, 1, 1, 9), 1)


@given(
    start=st.datetimes(
        min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2028, 1, 1), timezones=st.just(SH)
    ),
    days=st.integers(1, 10),
)
def test_working_deadlines_land_on_working_days_and_count_exactly(
    start: dt.datetime, days: int
) -> None:
    cal = WorkCalendar(tz=SH, working_days=True, holidays=NATIONAL_DAY)
    due = cal.local(cal.add_days(start, days))
    assert due > start

    def working_between(first: dt.date, last: dt.date) -> int:
        return sum(
            cal.is_working_day(first + dt.timedelta(days=i)) for i in range((last - first).days + 1)
        )

    if cal.is_working_day(start.date()):  # same time of day, `days` working days later
        assert due.time() == start.time() and cal.is_working_day(due.date())
        assert working_between(start.date() + dt.timedelta(days=1), due.date()) == days
    else:  # counted from the next working day's start: due at the end of the last one
        assert due.time() == dt.time(0, 0)
        assert (
            working_between(start.date() + dt.timedelta(days=1), due.date() - dt.timedelta(days=1))
            == days
        )

"""Deadlines in calendar or working days, in the site's time zone, with holidays.

A deadline keeps the local time of day at which the stage started: a case that enters
``determine`` on Friday at 15:00 with 2 working days is due on Tuesday at 15:00. Times are
stored in UTC; days are counted on the site's local calendar, so a time-zone boundary (the
machine in UTC, the site in Asia/Shanghai) never moves a deadline by a day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

UTC = dt.UTC


def as_utc(when: dt.datetime) -> dt.datetime:
    """``when`` in UTC; a naive datetime is refused (times must say their zone)."""
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when.isoformat()}: give a time zone")
    return when.astimezone(UTC)


@dataclass(frozen=True)
class WorkCalendar:
    """Which local days count, and where the site is."""

    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    working_days: bool = False
    holidays: frozenset[dt.date] = frozenset()
    workdays: frozenset[dt.date] = frozenset()  # make-up working days (调休) on weekends

    def is_working_day(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def local(self, when: dt.datetime) -> dt.datetime:
        return as_utc(when).astimezone(self.tz)

    def local_day(self, when: dt.datetime) -> dt.date:
        return self.local(when).date()

    def add_days(self, start: dt.datetime, days: int) -> dt.datetime:
        """``start`` plus ``days`` counted days, at the same local time of day (UTC result).

        In working-day mode a start on a non-working day counts from the next working day's
        start of day, so a case reported on Saturday gets the whole of Monday.
        """
        if days < 0:
            raise ValueError(f"days must be ≥ 0, got {days}")
        local = self.local(start)
        if not self.working_days:
            return self._at(local.date() + dt.timedelta(days=days), local.timetz()).astimezone(UTC)
        day, tod = local.date(), local.time()
        if not self.is_working_day(day):
            day, tod = self._next_working(day), dt.time(0, 0)
        for _ in range(days):
            day = self._next_working(day)
        return self._at(day, tod).astimezone(UTC)

    def _next_working(self, day: dt.date) -> dt.date:
        for _ in range(370):
            day += dt.timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError("no working day within a year: check the holiday list")

    def _at(self, day: dt.date, tod: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, tod.replace(tzinfo=None), tzinfo=self.tz)

    def day_start(self, day: dt.date) -> dt.datetime:
        """Local midnight of ``day``, in UTC."""
        return self._at(day, dt.time(0, 0)).astimezone(UTC)

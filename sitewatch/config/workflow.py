"""The ``workflow:`` section: stage deadlines, working days, holidays, the site's time zone.

```yaml
workflow:
  timezone: Asia/Shanghai
  days: working                 # deadlines count working days (calendar: every day)
  deadlines: {determine: 2, rectify: 3, verify: 2}
  target: 7                     # the whole case, shown per case
  holidays: [2026-10-01, 2026-10-02]
  workdays: [2026-10-10]        # make-up working days (调休) that fall on a weekend
  checkin_cutoff: "18:00"
```
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from streams.settings import StrictModel

if TYPE_CHECKING:
    from models.calendar import WorkCalendar
    from models.policy import WorkflowPolicy


class DeadlinesConfig(StrictModel):
    """Days each stage may take before it is overdue."""

    determine: int = Field(2, ge=1, le=60, description="Days to rule on a case (快速认定).")
    rectify: int = Field(3, ge=1, le=60, description="Days to demolish or rectify (拆除整治).")
    verify: int = Field(2, ge=1, le=60, description="Days to confirm on site (监督检查).")


class WorkflowConfig(StrictModel):
    """How deadlines are counted, and when the daily check-in closes."""

    timezone: str = Field(
        "Asia/Shanghai", description="The site's IANA time zone: days, cut-offs, dates shown."
    )
    days: Literal["calendar", "working"] = Field(
        "calendar", description="Count deadlines in calendar days or in working days."
    )
    deadlines: DeadlinesConfig = Field(
        default_factory=DeadlinesConfig, description="Days per stage."
    )
    target: int = Field(7, ge=1, le=120, description="Days a whole case should take.")
    holidays: list[dt.date] = Field(
        default_factory=list, description="Public holidays (not working days)."
    )
    workdays: list[dt.date] = Field(
        default_factory=list, description="Make-up working days (调休) falling on weekends."
    )
    checkin_cutoff: dt.time = Field(
        dt.time(18, 0), description="Local time after which a missing daily check-in is missed."
    )
    attach_iou: float = Field(
        0.3,
        gt=0,
        le=1,
        description="A camera detection overlapping an open case of its zone this much "
        "(IoU) is attached to it instead of opening a new case.",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as Asia/Shanghai"
            ) from None
        return value

    def calendar(self) -> WorkCalendar:
        from models.calendar import WorkCalendar

        return WorkCalendar(
            tz=ZoneInfo(self.timezone),
            working_days=self.days == "working",
            holidays=frozenset(self.holidays),
            workdays=frozenset(self.workdays),
        )

    def policy(self) -> WorkflowPolicy:
        """The plain rules object models/ works with (it imports nothing from here)."""
        from models.enums import Stage
        from models.policy import WorkflowPolicy

        d = self.deadlines
        return WorkflowPolicy(
            calendar=self.calendar(),
            stage_days={
                Stage.DETERMINE: d.determine,
                Stage.RECTIFY: d.rectify,
                Stage.VERIFY: d.verify,
            },
            target_days=self.target,
            checkin_cutoff=self.checkin_cutoff,
            attach_iou=self.attach_iou,
        )

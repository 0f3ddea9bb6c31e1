"""The site's workflow settings as one plain value (built from the YAML by the shell)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from models.calendar import WorkCalendar
from models.enums import Stage


def _default_days() -> dict[Stage, int]:
    return {Stage.DETERMINE: 2, Stage.RECTIFY: 3, Stage.VERIFY: 2}


@dataclass(frozen=True)
class WorkflowPolicy:
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    stage_days: dict[Stage, int] = field(default_factory=_default_days)
    target_days: int = 7
    checkin_cutoff: dt.time = dt.time(18, 0)
    attach_iou: float = 0.3

    def __post_init__(self) -> None:
        for stage, days in self.stage_days.items():
            if days < 1:
                raise ValueError(f"WorkflowPolicy: {stage} must take ≥ 1 day, got {days}")
        if not 0 < self.attach_iou <= 1:
            raise ValueError(f"WorkflowPolicy: attach_iou must be in (0, 1], got {self.attach_iou}")

    def deadline(self, stage: Stage, start: dt.datetime) -> dt.datetime | None:
        """When ``stage`` started at ``start`` is due; None for stages without a deadline."""
        days = self.stage_days.get(stage)
        return None if days is None else self.calendar.add_days(start, days)

    def target(self, opened: dt.datetime) -> dt.datetime:
        return self.calendar.add_days(opened, self.target_days)

    def cutoff(self, day: dt.date) -> dt.datetime:
        """The check-in cut-off of local ``day``, in UTC."""
        local = dt.datetime.combine(day, self.checkin_cutoff, tzinfo=self.calendar.tz)
        return local.astimezone(dt.UTC)

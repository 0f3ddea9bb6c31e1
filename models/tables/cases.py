"""Detections, cases, their timeline, evidence files and the runs of each timed stage."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.base import Base


class Detection(Base):
    """One ``detection.json`` delivered by a worker; applied once per idempotency key."""

    __tablename__ = "detections"
    __table_args__ = (sa.Index("ix_detections_camera_zone", "camera_id", "zone_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    body_sha256: Mapped[str] = mapped_column(sa.String(64))
    uid: Mapped[str] = mapped_column(sa.String(64), index=True)  # detection.json ``id``
    event: Mapped[str] = mapped_column(sa.String(16))  # confirmed | gone
    camera_id: Mapped[str] = mapped_column(sa.ForeignKey("cameras.id"))
    zone_id: Mapped[str] = mapped_column(sa.String(64))
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    x1: Mapped[float]
    y1: Mapped[float]
    x2: Mapped[float]
    y2: Mapped[float]
    score: Mapped[float]
    label: Mapped[str] = mapped_column(sa.String(64))
    first_seen_s: Mapped[float | None]
    confirmed_s: Mapped[float | None]
    detected_at: Mapped[dt.datetime]
    received_at: Mapped[dt.datetime]
    area_m2: Mapped[float | None]
    lon: Mapped[float | None]
    lat: Mapped[float | None]
    record: Mapped[dict[str, Any]]
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    opened_case: Mapped[bool] = mapped_column(default=False)


class Case(Base):
    """A suspected violation moving through the five stages."""

    __tablename__ = "cases"
    __table_args__ = (
        sa.Index("ix_cases_stage_unit", "stage", "unit_id"),
        sa.Index("ix_cases_camera_zone_stage", "camera_id", "zone_id", "stage"),
        sa.Index("ix_cases_opened_at_id", "opened_at", "id"),
        # the case list: one stage, newest first, read backwards until a page is found
        sa.Index("ix_cases_stage_opened", "stage", "opened_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(16))  # camera | manual
    stage: Mapped[str] = mapped_column(sa.String(16))
    outcome: Mapped[str | None] = mapped_column(sa.String(16))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    camera_id: Mapped[str | None] = mapped_column(sa.ForeignKey("cameras.id"))
    zone_id: Mapped[str | None] = mapped_column(sa.String(64))
    x1: Mapped[float | None]
    y1: Mapped[float | None]
    x2: Mapped[float | None]
    y2: Mapped[float | None]
    label: Mapped[str] = mapped_column(sa.String(64), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    lon: Mapped[float | None]
    lat: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    area_m2: Mapped[float | None]  # ground area of the structure, from the camera mapping
    demolished_m2: Mapped[float | None]
    opened_at: Mapped[dt.datetime]
    stage_started_at: Mapped[dt.datetime]
    deadline_at: Mapped[dt.datetime | None]
    target_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    reported_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    camera_gone_at: Mapped[dt.datetime | None]  # the camera saw the structure disappear
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", lazy="select"
    )

    def box(self) -> tuple[float, float, float, float] | None:
        if self.x1 is None or self.y1 is None or self.x2 is None or self.y2 is None:
            return None
        return (self.x1, self.y1, self.x2, self.y2)


class CaseEvent(Base):
    """One line of a case's timeline: who did what, when, with which fields."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    transition: Mapped[str | None] = mapped_column(sa.String(32))
    from_stage: Mapped[str | None] = mapped_column(sa.String(16))
    to_stage: Mapped[str | None] = mapped_column(sa.String(16))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(sa.String(128), default="")
    at: Mapped[dt.datetime]
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    fields: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    detection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("detections.id"))

    case: Mapped[Case] = relationship(back_populates="events")


class Evidence(Base):
    """A file of a case, stored once by content hash; ``event_id`` says which step brought it."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case_events.id"))
    detection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("detections.id"))
    kind: Mapped[str] = mapped_column(sa.String(16))
    sha256: Mapped[str] = mapped_column(sa.String(64), index=True)
    media_type: Mapped[str] = mapped_column(sa.String(64))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    storage_key: Mapped[str] = mapped_column(sa.String(200))
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    created_at: Mapped[dt.datetime]


class StageRun(Base):
    """One pass of a case through a timed stage (rectify runs again after a reject)."""

    __tablename__ = "stage_runs"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "stage", "run"),
        sa.Index("ix_stage_runs_open_deadline", "ended_at", "deadline_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    stage: Mapped[str] = mapped_column(sa.String(16))
    run: Mapped[int]
    role: Mapped[str] = mapped_column(sa.String(16))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    started_at: Mapped[dt.datetime]
    deadline_at: Mapped[dt.datetime]
    ended_at: Mapped[dt.datetime | None]
    ended_by: Mapped[str | None] = mapped_column(sa.String(32))

"""Accountability records, daily check-ins and the tamper-evident audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base


class Accountability(Base):
    """One missed deadline (a stage run or a day's check-in), answered once.

    ``dedupe_key`` (``stage_run:<id>`` / ``checkin:<unit>:<day>``) is unique, so schedulers
    running at once in several processes insert each record exactly once.
    """

    __tablename__ = "accountability"

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(100), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(24))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    stage_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stage_runs.id"))
    stage: Mapped[str | None] = mapped_column(sa.String(16))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    role: Mapped[str] = mapped_column(sa.String(16))
    day: Mapped[dt.date | None]
    deadline_at: Mapped[dt.datetime]
    found_at: Mapped[dt.datetime]
    late_seconds: Mapped[float]
    status: Mapped[str] = mapped_column(sa.String(16), default="open")
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    resolved_by: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[dt.datetime | None]


class Checkin(Base):
    """A village's daily report: its cases of the day, or a zero report (零报告)."""

    __tablename__ = "checkins"
    __table_args__ = (sa.UniqueConstraint("unit_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))
    day: Mapped[dt.date]
    kind: Mapped[str] = mapped_column(sa.String(8))  # zero | cases
    case_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[dt.datetime]


class AuditEntry(Base):
    """Append-only: ``content`` is the canonical JSON of the change; ``hash`` is
    SHA-256(prev_hash + content), so editing, reordering or deleting any row breaks the chain."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(sa.String(128))
    action: Mapped[str] = mapped_column(sa.String(48))
    entity: Mapped[str] = mapped_column(sa.String(32))
    entity_id: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[str] = mapped_column(sa.Text)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    def parsed(self) -> dict[str, Any]:
        import json

        out: dict[str, Any] = json.loads(self.content)
        return out


class AuditHead(Base):
    """The chain's tip (one row): appends lock it, so the chain never forks; the verifier
    checks the last entry against it, so a deleted tail is noticed too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(sa.String(64))

"""The notification queue, its scan cursors and per-user delivery settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.tables.base import Base


class Notification(Base):
    """One message to one recipient on one channel.

    ``dedupe_key`` (``<event>|<recipient>|<channel>``) is unique and inserted with
    ``ON CONFLICT DO NOTHING``, so an event never queues a message twice, also from several
    processes. ``channel`` is ``inbox`` (delivered on insert; ``read_at`` when read) or the
    name of a configured channel; ``user_id`` is empty for group robots.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        sa.Index("ix_notifications_due", "state", "next_attempt_at"),
        sa.Index("ix_notifications_user_channel", "user_id", "channel", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    event: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[str] = mapped_column(sa.String(24))
    channel: Mapped[str] = mapped_column(sa.String(64))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(sa.String(255), default="")  # e-mail address
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    urgent: Mapped[bool] = mapped_column(default=False)  # sent even in quiet hours
    language: Mapped[str] = mapped_column(sa.String(8), default="zh")
    subject: Mapped[str] = mapped_column(sa.String(255))
    body: Mapped[str] = mapped_column(sa.Text)
    link: Mapped[str] = mapped_column(sa.String(500), default="")
    facts: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    state: Mapped[str] = mapped_column(sa.String(12))  # pending | sending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    claimed_until: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    read_at: Mapped[dt.datetime | None]


class NotifyCursor(Base):
    """How far a scan has read a growing table (``case_events``, ``accountability``)."""

    __tablename__ = "notify_cursors"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class NotifyPrefs(Base):
    """A user's delivery settings: an e-mail address (e-mail on when set)."""

    __tablename__ = "notify_prefs"

    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str | None] = mapped_column(sa.String(255))
    email_enabled: Mapped[bool] = mapped_column(default=True)

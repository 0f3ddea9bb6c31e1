"""Who and where: reporting units, users and their role grants, cameras and their zones."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.tables.base import Base


class Unit(Base):
    """District, town, village or community; ``path`` is ``district/town/village``."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(sa.String(200), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    level: Mapped[str] = mapped_column(sa.String(16))  # district | town | village | community
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]  # check-ins are owed from the first cut-off after this

    @property
    def is_village(self) -> bool:
        return self.level in ("village", "community")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(128), default="")
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    api_key_prefix: Mapped[str | None] = mapped_column(sa.String(16), unique=True)
    api_key_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True)
    token_version: Mapped[int] = mapped_column(default=0)  # bump to revoke issued tokens
    language: Mapped[str] = mapped_column(sa.String(8), default="zh")
    created_at: Mapped[dt.datetime]

    grants: Mapped[list[Grant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class Grant(Base):
    """A role in a unit; covers the unit's subtree (permissions as rows)."""

    __tablename__ = "grants"
    __table_args__ = (sa.UniqueConstraint("user_id", "role", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(sa.String(16))
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id"))

    user: Mapped[User] = relationship(back_populates="grants")
    unit: Mapped[Unit] = relationship(lazy="joined")


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), default="")
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(default=True)
    state: Mapped[str] = mapped_column(sa.String(16), default="unknown")
    last_frame_at: Mapped[dt.datetime | None]
    last_heartbeat_at: Mapped[dt.datetime | None]
    counters: Mapped[dict[str, object]] = mapped_column(sa.JSON, default=dict)


class Zone(Base):
    __tablename__ = "zones"
    __table_args__ = (sa.UniqueConstraint("camera_id", "zone_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    camera_id: Mapped[str] = mapped_column(sa.ForeignKey("cameras.id"))
    zone_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(128), default="")
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id"))
    active: Mapped[bool] = mapped_column(default=True)
    # GeoJSON Polygon geometry in longitude/latitude (WGS84), from the camera's ground
    # mapping; None when the site YAML gives the camera no ground: section
    outline: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))

"""From users and grants to :class:`~models.workflow.Actor`, and unit scoping for queries."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models.enums import Role
from models.tables import Grant, Unit, User
from models.workflow import READ_ROLES, Actor, Refusal


def actor_for(session: Session, user: User) -> Actor:
    grants = frozenset((Role(g.role), g.unit.path) for g in user.grants)
    return Actor(user_id=user.id, name=user.display_name or user.name, grants=grants)


def system_actor(name: str = "system") -> Actor:
    return Actor(user_id=None, name=name, grants=frozenset())


def unit_by_ref(session: Session, ref: str) -> Unit:
    """A unit by its path, with or without the district in front (``南屿镇/旗山村``)."""
    ref = ref.strip().strip("/")
    row = session.scalar(sa.select(Unit).where(Unit.path == ref))
    if row is None and ref:
        row = session.scalar(sa.select(Unit).where(Unit.level == "district", Unit.active.is_(True)))
        row = (
            session.scalar(sa.select(Unit).where(Unit.path == f"{row.path}/{ref}")) if row else None
        )
    if row is None:
        raise Refusal("not_found", f"no unit {ref!r}")
    return row


def _like_prefix(path: str) -> str:
    escaped = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "/%"


def subtree_clause(path: str) -> sa.ColumnElement[bool]:
    """``Unit`` rows at ``path`` or below it."""
    return sa.or_(Unit.path == path, Unit.path.like(_like_prefix(path), escape="\\"))


def visible_unit_ids(actor: Actor) -> sa.Select[int] | None:
    """A subquery of the unit ids ``actor`` may see; None when they see everything."""
    if any(r == Role.LEADER for r, _ in actor.grants):
        return None
    paths = sorted({u for r, u in actor.grants if r in READ_ROLES})
    if not paths:
        return sa.select(Unit.id).where(sa.false())
    return sa.select(Unit.id).where(sa.or_(*(subtree_clause(p) for p in paths)))


def grant(session: Session, user: User, role: Role, unit: Unit) -> bool:
    """Add a grant; False when the user already holds it."""
    for g in user.grants:
        if g.role == role and g.unit_id == unit.id:
            return False
    user.grants.append(Grant(role=str(role), unit_id=unit.id, unit=unit))
    session.flush()
    return True

"""Adding users: a password (Argon2) for people, an API key for workers (shown once)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.security import ApiKeys, Passwords
from models.access import grant, unit_by_ref
from models.enums import Role
from models.tables import User
from models.users import create_user
from models.workflow import Refusal


@dataclass(frozen=True)
class NewUser:
    user_id: int
    name: str
    secret: str  # the password or API key, shown once; never stored
    generated: bool  # the secret was generated (print it) rather than given


def add_user(
    session: Session,
    *,
    name: str,
    role: Role,
    unit: str,
    now: dt.datetime,
    passwords: Passwords,
    api_keys: ApiKeys,
    password: str | None = None,
    display_name: str = "",
    actor: str = "admin",
) -> NewUser:
    """Create ``name`` with ``role`` in ``unit``; workers get an API key instead of a password."""
    target = unit_by_ref(session, unit)
    if role == Role.WORKER:
        if password is not None:
            raise Refusal("invalid_field", "worker users sign in with an API key, not a password")
        key = api_keys.generate()
        user = create_user(
            session, name, now=now, display_name=display_name, roles=((role, target),), actor=actor
        )
        user.api_key_prefix, user.api_key_hash = key.prefix, key.digest
        session.flush()
        return NewUser(user.id, name, key.key, True)
    generated = password is None
    secret = password if password is not None else secrets.token_urlsafe(12)
    if len(secret) < 8:
        raise Refusal("invalid_field", "a password needs at least 8 characters")
    user = create_user(
        session,
        name,
        now=now,
        display_name=display_name,
        password_hash=passwords.hash(secret),
        roles=((role, target),),
        actor=actor,
    )
    return NewUser(user.id, name, secret, generated)


def add_grant(session: Session, user: User, role: Role, unit: str) -> bool:
    return grant(session, user, role, unit_by_ref(session, unit))

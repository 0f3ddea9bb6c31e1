"""Users and their grants (password and key hashing is the API's: models stores hashes)."""

from __future__ import annotations

import datetime as dt
import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import audit
from models.access import grant
from models.enums import Role
from models.tables import Unit, User
from models.workflow import Refusal

NAME_RE = re.compile(r"^[\w.@-]{1,64}$")


def create_user(
    session: Session,
    name: str,
    *,
    now: dt.datetime,
    display_name: str = "",
    password_hash: str | None = None,
    roles: tuple[tuple[Role, Unit], ...] = (),
    actor: str = "admin",
) -> User:
    if not NAME_RE.match(name):
        raise Refusal(
            "invalid_field", f"user name {name!r}: 1–64 letters, digits or . _ @ - (no spaces)"
        )
    if session.scalar(sa.select(User.id).where(User.name == name)) is not None:
        raise Refusal("conflict", f"user {name!r} exists already")
    user = User(
        name=name,
        display_name=display_name or name,
        password_hash=password_hash,
        active=True,
        token_version=0,
        language="zh",
        created_at=now,
    )
    session.add(user)
    session.flush()
    for role, unit in roles:
        grant(session, user, role, unit)
    audit.record(
        session,
        at=now,
        actor=actor,
        action="user.create",
        entity="user",
        entity_id=user.id,
        after={"name": name, "roles": [[str(r), u.path] for r, u in roles]},
    )
    return user

"""The signed-in user's in-page inbox (newest messages, the unread count, mark read), their
e-mail settings, and the admins' list of channel messages that kept failing."""

from __future__ import annotations

from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

from api.deps import Principal, ServicesDep, SessionDep, require
from api.policy import endpoint
from models import notify
from models.tables import Notification

router = APIRouter(tags=["inbox"])


def message_view(n: Notification) -> dict[str, Any]:
    return {
        "id": n.id,
        "kind": n.kind,
        "case_id": n.case_id,
        "subject": n.subject,
        "body": n.body,
        "link": n.link,
        "created_at": n.created_at,
        "read": n.read_at is not None,
    }


@endpoint(router, "inbox.list")
def inbox(
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("inbox.list"))],
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> dict[str, Any]:
    assert principal.actor.user_id is not None
    rows, unread = notify.inbox(db, principal.actor.user_id, limit)
    return {"unread": unread, "items": [message_view(n) for n in rows]}


@endpoint(router, "inbox.read")
def read(
    notification_id: int,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("inbox.read"))],
) -> dict[str, Any]:
    assert principal.actor.user_id is not None
    with db.begin():
        if not notify.mark_read(db, principal.actor.user_id, notification_id, services.clock()):
            raise HTTPException(404, f"no message {notification_id} in your inbox")
        unread = notify.unread_count(db, principal.actor.user_id)
    return {"id": notification_id, "read": True, "unread": unread}


@endpoint(router, "notifications.failed")
def failed(
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("notifications.failed"))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    rows = db.scalars(
        sa.select(Notification)
        .where(Notification.state == "failed")
        .order_by(Notification.id.desc())
        .limit(limit)
    )
    return [
        {**message_view(n), "channel": n.channel, "attempts": n.attempts, "error": n.last_error}
        for n in rows
    ]


class NotifyPrefsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(
        None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="None: remove"
    )
    email_enabled: bool = Field(True, description="Send e-mail notifications to the address.")


@endpoint(router, "me.notify")
def set_prefs(
    body: NotifyPrefsBody,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("me.notify"))],
) -> dict[str, Any]:
    user_id = principal.actor.user_id
    assert user_id is not None
    with db.begin():
        notify.set_email(db, user_id, body.email, body.email_enabled)
        return notify.prefs_of(db, user_id)


def unread_for(services: Any, user_id: int) -> int:
    """The unread count for the page header (``services``: the app's Services)."""
    with services.session() as s:
        return notify.unread_count(s, user_id)

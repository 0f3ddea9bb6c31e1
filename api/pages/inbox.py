"""The signed-in user's inbox (list, mark read) and the admins' page of failing messages."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from api.deps import Principal, Services, SessionDep
from api.pages.core import allowed, guard, render
from api.policy import endpoint
from api.routes.inbox import unread_for
from models import notify
from models.tables import Notification

router = APIRouter(tags=["pages"], include_in_schema=False)


@endpoint(router, "pages.inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    db: SessionDep,
    principal: Annotated[Principal, Depends(guard("pages.inbox"))],
) -> HTMLResponse:
    user_id = principal.actor.user_id
    rows, unread = notify.inbox(db, user_id, 200) if user_id is not None else ([], 0)
    return render(
        request,
        "inbox.html",
        principal,
        messages=rows,
        unread=unread,
        can_see_failed=allowed(principal, "pages.failed"),
    )


@endpoint(router, "pages.failed", response_class=HTMLResponse)
def failed_page(
    request: Request,
    db: SessionDep,
    principal: Annotated[Principal, Depends(guard("pages.failed"))],
) -> HTMLResponse:
    rows = db.scalars(
        sa.select(Notification)
        .where(Notification.state == "failed")
        .order_by(Notification.id.desc())
        .limit(500)
    ).all()
    return render(request, "admin.html", principal, failed=list(rows))


def header_unread(services: Services, principal: Principal | None) -> int | None:
    """The unread count in the page header (None when nobody is signed in)."""
    if principal is None or principal.actor.user_id is None:
        return None
    return unread_for(services, principal.actor.user_id)

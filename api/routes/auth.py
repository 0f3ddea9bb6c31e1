"""Sign-in: bearer tokens for clients, an HttpOnly cookie (with CSRF) for the pages."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, HTTPException, Request, Response

from api.deps import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    Principal,
    Services,
    ServicesDep,
    SessionDep,
    require,
)
from api.policy import endpoint
from models.tables import User

log = logging.getLogger("sitewatch.auth")
router = APIRouter(tags=["auth"])


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _sign_in(services: Services, request: Request, username: str, password: str) -> User:
    """The user for these credentials; throttles and logs repeated failures."""
    client = _client(request)
    wait = services.throttle.retry_after(username, client)
    if wait > 0:
        raise HTTPException(
            429,
            "too many failed sign-ins; try again later",
            headers={"Retry-After": str(int(wait) + 1)},
        )
    with services.session() as s, s.begin():
        user = s.scalar(sa.select(User).where(User.name == username))
        if user is None or not user.active or not user.password_hash:
            services.passwords.verify_dummy(password)
            ok, new_hash = False, None
        else:
            ok, new_hash = services.passwords.verify(password, user.password_hash)
            if ok and new_hash:
                user.password_hash = new_hash
    if not ok or user is None:
        services.throttle.failure(username, client)
        log.warning("failed sign-in for %r from %s", username, client)
        raise HTTPException(
            401, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"}
        )
    services.throttle.success(username, client)
    return user


@endpoint(router, "auth.token")
def token(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> dict[str, str]:
    user = _sign_in(services, request, username, password)
    return {
        "access_token": services.tokens.issue(str(user.id), user.token_version),
        "token_type": "bearer",
    }


@endpoint(router, "auth.session")
def session(
    request: Request,
    response: Response,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
) -> dict[str, str]:
    user = _sign_in(services, request, username, password)
    jwt = services.tokens.issue(str(user.id), user.token_version)
    claims = services.tokens.decode(jwt)
    csrf = services.csrf.issue(claims.token_id)
    secure = services.settings.secure_cookies
    max_age = int(services.settings.token_ttl_s)
    response.set_cookie(
        SESSION_COOKIE, jwt, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
    )
    response.set_cookie(
        CSRF_COOKIE,
        csrf,
        max_age=max_age,
        httponly=False,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return {"csrf_token": csrf, "user": user.name}


@endpoint(router, "auth.logout")
def logout(response: Response) -> dict[str, str]:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return {"status": "signed out"}


def _grants(p: Principal) -> list[dict[str, str]]:
    return [{"role": r.value, "unit": u} for r, u in sorted(p.actor.grants)]


@endpoint(router, "me")
def me(principal: Annotated[Principal, Depends(require("me"))]) -> dict[str, Any]:
    return {
        "id": principal.user_id,
        "name": principal.name,
        "display_name": principal.display_name,
        "language": principal.language,
        "grants": _grants(principal),
    }


@endpoint(router, "users.list")
def users(
    db: SessionDep, _: Annotated[Principal, Depends(require("users.list"))]
) -> list[dict[str, Any]]:
    rows = db.scalars(sa.select(User).order_by(User.name)).all()
    return [
        {
            "id": u.id,
            "name": u.name,
            "display_name": u.display_name,
            "active": u.active,
            "api_key": bool(u.api_key_hash),
            "grants": [{"role": g.role, "unit": g.unit.path} for g in u.grants],
        }
        for u in rows
    ]


__all__ = ["CurrentUser", "router"]

"""Typed dependencies: the app's services, a database session, the signed-in principal,
and ``require(route)`` that checks the route table's roles."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.evidence_store import EvidenceStore
from api.metrics import ApiMetrics
from api.policy import ROUTES
from api.security import AccessTokens, ApiKeys, CsrfTokens, InvalidToken, Passwords, SignInThrottle
from api.settings import ApiSettings
from models.access import actor_for
from models.cases import ReviewSink
from models.policy import WorkflowPolicy
from models.tables import User
from models.workflow import Actor, Refusal

SESSION_COOKIE = "sw_session"
CSRF_COOKIE = "sw_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class AuthCache:
    """Credentials checked in the last ``ttl`` seconds (per process): a worker posting
    hundreds of detections a second is not looked up and HMAC-checked each time. Disabling a
    user or bumping their token version takes effect within ``ttl``."""

    def __init__(self, ttl: float = 30.0, size: int = 10_000) -> None:
        self.ttl, self.size = ttl, size
        self._hits: dict[str, tuple[float, Principal]] = {}

    def get(self, credential: str) -> Principal | None:
        hit = self._hits.get(credential)
        if hit is None or time.monotonic() - hit[0] > self.ttl:
            return None
        return hit[1]

    def put(self, credential: str, principal: Principal) -> None:
        if len(self._hits) >= self.size:
            self._hits.clear()
        self._hits[credential] = (time.monotonic(), principal)

    def clear(self) -> None:
        self._hits.clear()


@dataclass
class Services:
    """Everything a request may need, built once by ``create_app``."""

    settings: ApiSettings
    engine: Engine
    policy: WorkflowPolicy
    store: EvidenceStore
    passwords: Passwords
    tokens: AccessTokens
    api_keys: ApiKeys
    csrf: CsrfTokens
    throttle: SignInThrottle
    metrics: ApiMetrics
    clock: Callable[[], dt.datetime]
    review_sink: ReviewSink | None = None
    auth_cache: AuthCache = field(default_factory=lambda: AuthCache())

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


async def get_services(request: Request) -> Services:  # async: no thread hop per request
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_db(services: ServicesDep) -> Iterator[Session]:
    with services.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_db)]


@dataclass(frozen=True)
class Principal:
    user_id: int
    name: str
    display_name: str
    language: str
    actor: Actor
    via: str  # bearer | api_key | cookie
    session_id: str = ""

    def holds(self, roles: frozenset[Any]) -> bool:
        return any(r in roles for r, _ in self.actor.grants)


def _unauthorized(reason: str) -> HTTPException:
    return HTTPException(401, reason, headers={"WWW-Authenticate": "Bearer"})


def _principal(services: Services, user: User, via: str, session_id: str = "") -> Principal:
    with services.session() as s:
        fresh = s.get(User, user.id)
        assert fresh is not None
        actor = actor_for(s, fresh)
    return Principal(user.id, user.name, user.display_name, user.language, actor, via, session_id)


def _from_api_key(services: Services, key: str) -> Principal:
    prefix = ApiKeys.prefix_of(key)
    if prefix is None:
        raise _unauthorized("malformed API key")
    with services.session() as s:
        user = s.scalar(sa.select(User).where(User.api_key_prefix == prefix))
    if user is None or not user.active or not user.api_key_hash:
        raise _unauthorized("unknown or disabled API key")
    if not services.api_keys.verify(key, user.api_key_hash):
        raise _unauthorized("unknown or disabled API key")
    return _principal(services, user, "api_key")


def _from_token(services: Services, token: str, via: str) -> Principal:
    try:
        claims = services.tokens.decode(token)
        user_id = int(claims.subject)
    except (InvalidToken, ValueError):
        raise _unauthorized("invalid or expired token") from None
    with services.session() as s:
        user = s.get(User, user_id)
    if user is None or not user.active or user.token_version != claims.version:
        raise _unauthorized("invalid or expired token")
    return _principal(services, user, via, claims.token_id)


async def _check_csrf(request: Request, services: Services, principal: Principal) -> None:
    token = request.headers.get(CSRF_HEADER)
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        token = value if isinstance(value, str) else None
    if not services.csrf.verify(principal.session_id, token):
        raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


async def current_principal(request: Request, services: ServicesDep) -> Principal:
    """The caller, from a bearer token, a worker API key, or the pages' session cookie."""
    auth = request.headers.get("authorization", "")
    if auth:
        scheme, _, credential = auth.partition(" ")
        if scheme.lower() != "bearer" or not credential.strip():
            raise _unauthorized("use Authorization: Bearer <token or API key>")
        credential = credential.strip()
        cached = services.auth_cache.get(credential)
        if cached is not None:
            return cached
        if credential.startswith("swk_"):
            principal = _from_api_key(services, credential)
        else:
            principal = _from_token(services, credential, "bearer")
        services.auth_cache.put(credential, principal)
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        principal = _from_token(services, cookie, "cookie")
        if request.method not in SAFE_METHODS:
            await _check_csrf(request, services, principal)
        return principal
    raise _unauthorized("sign in first")


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require(route: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the caller, if they hold one of the route's roles for some unit."""
    rule = ROUTES[route]
    roles = rule.roles

    async def dep(request: Request) -> Principal:  # async: runs on the loop, no thread
        # current_principal called here, not as a sub-dependency: two dependency levels less
        # for FastAPI to solve on every request (no route asks for CurrentUser as well)
        principal = await current_principal(request, request.app.state.services)
        if roles is not None and not principal.holds(roles):
            names = ", ".join(sorted(r.value for r in roles))
            raise HTTPException(403, f"{route} needs one of the roles: {names}")
        return principal

    return dep


REFUSAL_STATUS = {
    "not_found": 404,
    "foreign_unit": 403,
    "not_permitted": 403,
    "wrong_stage": 409,
    "conflict": 409,
    "missing_field": 422,
    "invalid_field": 422,
    "unknown_transition": 422,
}


def http_error(refusal: Refusal, *, conflict_status: int = 409) -> HTTPException:
    status = REFUSAL_STATUS[refusal.code]
    if refusal.code == "conflict":
        status = conflict_status
    return HTTPException(status, {"code": refusal.code, "reason": refusal.reason})

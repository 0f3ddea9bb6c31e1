"""What every page shares: the signed-in user (or a redirect to the login page, or a 403
page), the navigation the user's roles allow, and rendering in the chosen language."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import Principal, Services, current_principal
from api.pages import labels
from api.pages.i18n import LANG_COOKIE, environment, formats, gettext_for, language_of
from api.policy import ROUTES

# (route name, path, msgid) in the order of the navigation bar
NAV = (
    ("pages.review", "/review", labels.N_("Review")),
    ("pages.cases", "/cases", labels.N_("Cases")),
    ("pages.report", "/report", labels.N_("Field report")),
    ("pages.checkins", "/checkins", labels.N_("Check-ins")),
    ("pages.accountability", "/accountability", labels.N_("Accountability")),
    ("pages.stats", "/stats", labels.N_("Statistics")),
    ("pages.cameras", "/cameras", labels.N_("Cameras")),
)


class PageDenied(Exception):
    """Raised by a page guard: 401 sends the browser to the login page, 403 shows why not."""

    def __init__(
        self, status: int, route: str, path: str, principal: Principal | None = None
    ) -> None:
        super().__init__(route)
        self.status = status
        self.route = route
        self.path = path
        self.principal = principal


def allowed(principal: Principal | None, route: str) -> bool:
    roles = ROUTES[route].roles
    return roles is None or (principal is not None and principal.holds(roles))


def guard(route: str) -> Callable[[Request], Coroutine[Any, Any, Principal]]:
    """A dependency: the signed-in user if they hold one of the page's roles."""

    async def dep(request: Request) -> Principal:
        services: Services = request.app.state.services
        try:
            principal = await current_principal(request, services)
        except HTTPException:
            raise PageDenied(401, route, request.url.path) from None
        if not allowed(principal, route):
            raise PageDenied(403, route, request.url.path, principal)
        return principal

    return dep


def language(request: Request) -> str:
    return language_of(request.cookies.get(LANG_COOKIE))


def render(
    request: Request, template: str, principal: Principal | None, http_status: int = 200, **ctx: Any
) -> HTMLResponse:
    from api.pages.inbox import header_unread  # the header's unread count (imports core)

    services: Services = request.app.state.services
    lang = language(request)
    gettext = gettext_for(lang)
    nav = [
        (path, gettext(text), path == request.url.path or request.url.path.startswith(path + "/"))
        for route, path, text in NAV
        if allowed(principal, route)
    ]
    csrf = services.csrf.issue(principal.session_id) if principal and principal.session_id else ""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    html = (
        environment(lang)
        .get_template(template)
        .render(
            request=request,
            user=principal,
            nav=nav,
            csrf_token=csrf,
            here=here,
            label=lambda kind, code: labels.label(kind, code, gettext),
            labels=labels,
            header_unread=header_unread(services, principal),
            **formats(lang, services.policy.calendar.tz),
            **ctx,
        )
    )
    return HTMLResponse(html, status_code=http_status, headers={"Cache-Control": "no-store"})


def denied(request: Request, exc: Exception) -> Response:
    """The exception handler for :class:`PageDenied`."""
    assert isinstance(exc, PageDenied)
    if exc.status == 401:
        return RedirectResponse(f"/login?next={quote(exc.path)}", status_code=303)
    roles = ROUTES[exc.route].roles or frozenset()
    return render(
        request, "denied.html", exc.principal, http_status=403, roles=sorted(r.value for r in roles)
    )


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to: never another site (``//host``, ``\\``, a scheme)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target

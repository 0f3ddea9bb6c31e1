"""The entry pages: ``/`` (to the user's first page), the login page, the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api.deps import Services, current_principal
from api.pages.core import NAV, allowed, render, safe_next
from api.pages.i18n import LANG_COOKIE, LANGUAGES
from api.policy import endpoint

router = APIRouter(tags=["pages"], include_in_schema=False)
YEAR_S = 365 * 86400


async def _maybe_user(request: Request) -> object:
    services: Services = request.app.state.services
    try:
        return await current_principal(request, services)
    except HTTPException:
        return None


@endpoint(router, "pages.home", response_class=RedirectResponse)
async def home(request: Request) -> RedirectResponse:
    principal = await _maybe_user(request)
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    first = next((path for route, path, _ in NAV if allowed(principal, route)), "/login")  # type: ignore[arg-type]
    return RedirectResponse(first, status_code=303)


@endpoint(router, "pages.login", response_class=HTMLResponse)
async def login(
    request: Request, next: Annotated[str | None, Query(max_length=500)] = None
) -> HTMLResponse:
    return render(request, "login.html", None, next_url=safe_next(next))


@endpoint(router, "pages.lang", response_class=RedirectResponse)
def switch_language(
    lang: str, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    if lang not in LANGUAGES:
        raise HTTPException(404, f"no language {lang!r}; languages: {', '.join(LANGUAGES)}")
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=YEAR_S, samesite="lax", path="/")
    return response

"""The web pages: server-rendered Jinja2 with a little plain JavaScript, zh-CN and English.

``install(app)`` adds the page routes, ``/static`` and the login redirect / 403 page. Pages
read through the same helpers as the API (api/views.py, api/queries.py, models/) and every
action is a ``fetch`` to the API route that takes it, so the rules live in one place."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"


def install(app: FastAPI) -> None:
    from api.pages import cases, field, inbox, office, session
    from api.pages.core import PageDenied, denied

    for module in (session, cases, field, office, inbox):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_exception_handler(PageDenied, denied)

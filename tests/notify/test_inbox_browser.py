"""The inbox and failing-messages pages in Chromium: axe-core clean in both languages and at
phone width, no console errors; "mark read" updates the header's count without a reload."""

from __future__ import annotations

from typing import Any

import pytest

from api.notify.sender import Backoff, deliver_due
from api.scheduler import scan_once
from models import notify
from tests.pages.browser import (
    DESKTOP,
    PHONE,
    Problems,
    axe_check,
    launch,
    serve,
)
from tests.pages.conftest import PASSWORD, Api, api, new_case

__all__ = ["api"]
pytestmark = pytest.mark.slow


def _context(browser: Any, site: str, who: str, lang: str) -> Any:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.add_cookies([{"name": "sw_lang", "value": lang, "url": site}])
    r = context.request.post(
        f"{site}/api/v1/auth/session", form={"username": who, "password": PASSWORD}
    )
    assert r.ok, r.text()
    return context


def test_inbox_and_failed_pages_in_a_browser(api: Api) -> None:
    new_case(api, 1)
    new_case(api, 2)
    scan_once(api.services)
    with api.services.session() as s, s.begin():
        notify.queue_channel(
            s, event="e1", kind="stage", channel="gone", text="案件 #1", now=api.clock()
        )
    deliver_due(api.services.engine, {}, now=api.clock(), backoff=Backoff(max_attempts=1))
    problems = Problems()
    with launch() as browser, serve(api.client.app) as site:
        for lang in ("zh_CN", "en"):
            for who, path in (("operator", "/inbox"), ("admin", "/admin/notifications")):
                ctx = _context(browser, site, who, lang)
                page = ctx.new_page()
                problems.watch(page)
                page.goto(site + path, wait_until="load")
                axe_check(page, problems, f"{path} {lang}")
                page.set_viewport_size(PHONE)
                axe_check(page, problems, f"{path} {lang} phone")
                ctx.close()
        ctx = _context(browser, site, "operator", "zh_CN")
        page = ctx.new_page()
        problems.watch(page)
        page.goto(site + "/inbox", wait_until="load")
        assert page.inner_text(".inbox-count .count") == "2"
        page.click("button[data-read]")
        page.wait_for_function(
            "() => document.querySelector('.inbox-count .count')?.textContent === '1'"
        )
        assert page.locator("li.message.unread").count() == 1
        ctx.close()
    assert not problems.console, problems.console
    assert not problems.axe, "\n".join(problems.axe)

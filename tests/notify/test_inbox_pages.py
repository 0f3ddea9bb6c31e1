"""The inbox page and the header's unread count; the admins' page of failing messages."""

from __future__ import annotations

import re

from api.notify.sender import Backoff, deliver_due
from api.scheduler import scan_once
from models import notify
from tests.pages.conftest import Api, api, cookie_client, new_case

__all__ = ["api"]


def _count(html: str) -> str | None:
    m = re.search(r'class="inbox-count"[^>]*>[^<]*(?:<span class="count"[^>]*>(\d+)</span>)?', html)
    assert m, "no inbox link in the header"
    return m.group(1)


def test_inbox_page_lists_marks_read_and_the_header_counts(api: Api) -> None:
    cid = new_case(api)
    scan_once(api.services)
    c = cookie_client(api, "operator")
    page = c.get("/inbox")
    assert page.status_code == 200
    assert _count(page.text) == "1"
    assert f'href="http://testserver/cases/{cid}"' in page.text and f"#{cid}" in page.text
    (mid,) = re.findall(r'data-read="(\d+)"', page.text)
    assert _count(cookie_client(api, "determiner").get("/cases").text) is None  # none unread
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert csrf
    r = c.post(f"/api/v1/inbox/{mid}/read", headers={"X-CSRF-Token": csrf.group(1)})
    assert r.status_code == 200 and r.json()["unread"] == 0
    page = c.get("/inbox")
    assert _count(page.text) is None and 'data-read="' not in page.text
    assert "收件箱" in page.text  # zh_CN by default


def test_failing_messages_page_is_for_admins(api: Api) -> None:
    with api.services.session() as s, s.begin():
        notify.queue_channel(s, event="e1", kind="stage", channel="gone-robot", text="案件 #1",
                             now=api.clock())  # fmt: skip
    deliver_due(api.services.engine, {}, now=api.clock(), backoff=Backoff(max_attempts=1))
    page = cookie_client(api, "admin").get("/admin/notifications")
    assert page.status_code == 200
    assert "gone-robot" in page.text and "no channel &#39;gone-robot&#39; configured" in page.text
    assert cookie_client(api, "operator").get("/admin/notifications").status_code == 403

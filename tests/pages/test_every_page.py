"""Every page, as the role it is for, in both languages and at desktop and phone width:
a screenshot each (test-artifacts/pages/), axe-core on each, no console errors; then the
efficiency office resolves a record through its page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.scheduler import scan_once
from tests.pages.browser import (
    DESKTOP,
    PHONE,
    Problems,
    axe_check,
    launch,
    screenshot,
    serve,
)
from tests.pages.conftest import PASSWORD, Api, jpeg
from tests.pages.mapsite import with_outlines
from tests.pages.test_browser import ingest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch() as b:
        yield b


def _take(api: Api, who: str, cid: int, name: str, **data: Any) -> None:
    files = data.pop("files", None)
    if files:
        r = api.client.post(
            f"/api/v1/cases/{cid}/transitions",
            headers=api.auth(who),
            data={"name": name, **data},
            files=files,
        )
    else:
        r = api.client.post(
            f"/api/v1/cases/{cid}/transitions", headers=api.auth(who), json={"name": name, **data}
        )
    assert r.status_code == 201, r.text


def seed(api: Api) -> dict[str, int]:
    """Cases in every stage, a field report, a heartbeat, a check-in, overdue records."""
    waiting = ingest(api, 1, (100, 100, 200, 180))
    late = ingest(api, 2, (400, 200, 520, 300))
    _take(api, "operator", late, "confirm", label="steel_roof_shed")
    done = ingest(api, 3, (300, 40, 380, 90))
    _take(api, "operator", done, "confirm")
    _take(api, "determiner", done, "rule_illegal", comment="未批先建")
    _take(
        api,
        "rectifier",
        done,
        "rectified",
        area_m2="120",
        files=[("files", ("a.jpg", jpeg(3), "image/jpeg"))],
    )
    _take(api, "supervisor", done, "verified")
    r = api.client.post(
        "/api/v1/reports",
        headers=api.auth("inspector"),
        data={
            "unit": "南屿镇/旗山村",
            "lon": "119.2051",
            "lat": "26.0342",
            "accuracy_m": "6",
            "description": "田里新建砖房",
        },
        files=[("photos", ("IMG_0001.jpg", jpeg(5, (320, 240)), "image/jpeg"))],
    )
    assert r.status_code == 201, r.text
    manual = int(r.json()["case_id"])
    api.client.post(
        "/api/v1/checkins", json={"unit": "上街镇/榕桥村"}, headers=api.auth("inspector2")
    )
    api.clock.advance(days=3)
    beat = api.client.post(
        "/api/v1/cameras/cam1/heartbeat",
        headers=api.auth("worker"),
        json={"state": "online", "last_frame_at": api.clock().isoformat()},
    )
    assert beat.status_code == 204, beat.text
    overdue, _ = scan_once(api.services)
    assert overdue >= 1
    return {"waiting": waiting, "late": late, "done": done, "manual": manual}


NARROW = {"width": 360, "height": 740}
# what must stay on screen: the page's heading and every control outside a box that
# scrolls on its own (tables, the board)
CONTROLS = """() => {
  const w = window.innerWidth, out = [];
  const name = (el) => el.id || el.tagName.toLowerCase() + "." + el.className;
  const wide = document.scrollingElement.scrollWidth;
  if (wide > w + 1) {
    const over = [...document.querySelectorAll("body *")].filter(
      (el) => el.getBoundingClientRect().right > w + 1 && !el.closest(".table-wrap, .board"));
    out.push("scrolls sideways: " + wide + " (" + over.slice(0, 3).map(name).join(", ") + ")");
  }
  const sel = ["main h1", "main button", "main a.button", "main input", "main select",
               "main textarea", "header.top a:not(.skip)", "header.top button"].join(", ");
  for (const el of document.querySelectorAll(sel)) {
    if (el.closest(".table-wrap, .board, [hidden]") || el.type === "hidden") continue;
    const r = el.getBoundingClientRect(), st = getComputedStyle(el);
    if (st.visibility === "hidden" || st.display === "none") continue;
    if (r.width < 1 || r.height < 1 || r.left < -1 || r.right > w + 1)
      out.push(name(el) + " at " + Math.round(r.left) + ".." + Math.round(r.right));
  }
  return out;
}"""


def layout_problems(page: Any, where: str) -> list[str]:
    return [f"{where}: {p}" for p in page.evaluate(CONTROLS)]


def pages(ids: dict[str, int]) -> list[tuple[str, str | None, str]]:
    return [
        ("login", None, "/login"),
        ("review", "operator", "/review"),
        ("board", "leader", "/cases"),
        ("list", "leader", "/cases?view=list&sort=deadline&order=asc"),
        ("case", "determiner", f"/cases/{ids['late']}"),
        ("case-closed", "leader", f"/cases/{ids['done']}"),
        ("case-manual", "inspector", f"/cases/{ids['manual']}"),
        ("report", "inspector", "/report"),
        ("checkins", "leader", "/checkins"),
        ("accountability", "office", "/accountability"),
        ("stats", "leader", "/stats?from=2026-11-01&to=2026-12-31"),
        ("cameras", "leader", "/cameras"),
        ("denied", "inspector", "/accountability"),
    ]


def _context(browser: Any, site: str, who: str | None, lang: str) -> Any:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.add_cookies([{"name": "sw_lang", "value": lang, "url": site}])
    if who is not None:
        r = context.request.post(
            f"{site}/api/v1/auth/session", form={"username": who, "password": PASSWORD}
        )
        assert r.ok, r.text()
    return context


def test_every_page_in_both_languages_and_on_a_phone(
    api: Api, browser: Any, tmp_path: Path
) -> None:
    with_outlines(api, tmp_path)  # camera cases get a position and their zone's outline
    ids = seed(api)
    problems = Problems()
    shots = []
    with serve(api.client.app) as site:
        for lang in ("zh_CN", "en"):
            contexts: dict[str | None, Any] = {}
            for name, who, path in pages(ids):
                if who not in contexts:
                    contexts[who] = _context(browser, site, who, lang)
                page = contexts[who].new_page()
                # the 403 page is answered with a 403, which the browser logs
                problems.watch(page, allow="status of 403" if name == "denied" else "")
                page.goto(site + path, wait_until="load")
                if name == "stats":
                    page.wait_for_function(
                        "() => document.querySelectorAll('.chart[data-drawn] canvas').length === 4"
                    )
                if name == "denied":
                    assert page.evaluate("() => document.title").startswith(
                        ("无权访问", "Not allowed")
                    )
                axe_check(page, problems, f"{name} {lang}")
                shots.append(screenshot(page, f"{name}-{lang}-desktop"))
                for size, tag in ((PHONE, "phone"), (NARROW, "360")):
                    page.set_viewport_size(size)
                    problems.layout += layout_problems(page, f"{name} {lang} {tag}")
                    if size is PHONE:
                        axe_check(page, problems, f"{name} {lang} phone")
                    shots.append(screenshot(page, f"{name}-{lang}-{tag}"))
                page.close()
            for c in contexts.values():
                c.close()
        office = _context(browser, site, "office", "zh_CN").new_page()
        problems.watch(office)
        office.goto(site + "/accountability")
        form = office.locator("form.resolve").first
        form.locator("select").select_option("interviewed")
        form.locator("textarea").fill("已约谈镇认定人员")
        form.locator("button[type=submit]").click()
        office.wait_for_selector("text=已约谈镇认定人员")
    assert all(p.stat().st_size > 5000 for p in shots) and len(shots) == 6 * len(pages(ids))
    records = api.client.get(
        "/api/v1/accountability?status=interviewed", headers=api.auth("office")
    ).json()
    assert [r["comment"] for r in records] == ["已约谈镇认定人员"]
    assert problems.console == [], problems.console
    assert problems.axe + problems.layout == [], "\n".join(problems.axe + problems.layout)

"""The pages in a real headless Chromium: each role takes its action from a detection in the
review queue to a closed case; the clip plays and seeks; a field report from a phone; the
language switch; the charts; no console errors; axe-core on every page; screenshots."""

from __future__ import annotations

import io
import math
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from api.pages.geo import TILE, WIDTH, world_px
from api.settings import TileLayer
from tests.models.conftest import detection
from tests.pages.browser import (
    DESKTOP,
    PHONE,
    Problems,
    axe_check,
    launch,
    make_clip,
    serve,
    sign_in,
)
from tests.pages.conftest import PASSWORD, Api, jpeg
from tests.pages.mapsite import tile_server, with_outlines

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch() as b:
        yield b


@pytest.fixture()
def site(api: Api) -> Iterator[str]:
    with serve(api.client.app) as base:
        yield base


def scene(after: bool, size: tuple[int, int] = (640, 360)) -> bytes:
    """A field and sky; ``after`` adds a grey shed where the detection box is."""
    img = Image.new("RGB", size, (150, 190, 120))
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, size[0], 90), fill=(170, 200, 230))
    if after:
        d.rectangle((100, 100, 200, 180), fill=(120, 125, 135))
        d.polygon([(95, 100), (150, 80), (205, 100)], fill=(70, 90, 150))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def evidence(clip: bytes | None) -> dict[str, tuple[str, bytes, str]]:
    files = {
        "snapshot": ("snapshot.jpg", scene(True), "image/jpeg"),
        "before": ("before.jpg", scene(False), "image/jpeg"),
        "after": ("after.jpg", scene(True), "image/jpeg"),
    }
    if clip is not None:
        files["clip"] = ("clip.mp4", clip, "video/mp4")
    return files


def ingest(api: Api, n: int, box: tuple[float, ...], clip: bytes | None = None) -> int:
    r: Any = api.ingest(detection(n, box), files=evidence(clip))
    assert r.status_code == 201, r.text
    return int(r.json()["case_id"])


def case_of(api: Api, cid: int) -> dict[str, Any]:
    r = api.client.get(f"/api/v1/cases/{cid}", headers=api.auth("leader"))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def page_for(browser: Any, problems: Problems, **kw: Any) -> Any:
    context = browser.new_context(viewport=kw.pop("viewport", DESKTOP), locale="zh-CN", **kw)
    page = context.new_page()
    problems.watch(page)
    return page


def moved(start: tuple[float, float], zoom: int, dx: float, dy: float) -> tuple[float, float]:
    """(lon, lat) ``dx``, ``dy`` tile pixels away from ``start`` (inverse Web Mercator)."""
    x, y = world_px(start[0], start[1], zoom)
    n = TILE * 2**zoom
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * (y + dy) / n))))
    return (x + dx) / n * 360 - 180, lat


def submit(page: Any, transition: str) -> None:
    page.click(f'form[data-transition="{transition}"] button[type=submit]')


def test_each_role_acts_from_the_review_queue_to_a_closed_case(
    api: Api, browser: Any, site: str, tmp_path: Path
) -> None:
    clip = make_clip(tmp_path / "clip.mp4")
    cid = ingest(api, 1, (100, 100, 200, 180), clip)
    other = ingest(api, 2, (400, 200, 520, 300))
    problems = Problems()

    page = page_for(browser, problems)
    sign_in(page, site, "operator", PASSWORD, "/review")
    assert page.locator("h2").first.inner_text().startswith(f"案件 {cid}")
    axe_check(page, problems, "review")
    page.wait_for_function("() => document.querySelector('#clip').readyState >= 2")
    page.evaluate("() => document.querySelector('#clip').play()")
    page.wait_for_function("() => document.querySelector('#clip').currentTime > 0.3")
    page.evaluate(
        "() => { const v = document.querySelector('#clip'); v.pause(); v.currentTime = 2.2; }"
    )
    page.wait_for_function(
        "() => { const v = document.querySelector('#clip');"
        " return !v.seeking && Math.abs(v.currentTime - 2.2) < 0.2 && v.readyState >= 2; }"
    )
    page.keyboard.press("j")  # next in the queue, then back
    page.wait_for_url(f"{site}/review?case={other}")
    page.keyboard.press("k")
    page.wait_for_url(f"{site}/review?case={cid}")
    page.select_option("#label-confirm", "scaffolding")
    page.locator("h1").click()  # keys are ignored while a field has the focus
    page.keyboard.press("y")
    page.wait_for_selector(f"text=案件 {other}")
    assert case_of(api, cid)["stage"] == "determine" and case_of(api, cid)["label"] == "scaffolding"
    page.keyboard.press("n")
    assert page.evaluate("() => document.activeElement.id") == "reason-dismiss"
    page.select_option("#reason-dismiss", index=1)
    page.fill("#detail-dismiss", "路过的货车")
    submit(page, "dismiss")
    page.wait_for_selector("text=暂无待审核")
    dismissed = case_of(api, other)
    assert dismissed["outcome"] == "dismissed" and dismissed["timeline"][-1]["reason"].endswith(
        "：路过的货车"
    )

    page = page_for(browser, problems)
    sign_in(page, site, "determiner", PASSWORD, f"/cases/{cid}")
    axe_check(page, problems, "case determine")
    page.fill("#comment-rule_illegal", "未批先建")
    submit(page, "rule_illegal")
    page.wait_for_selector("h1:has-text('拆除整治')")

    page = page_for(browser, problems)
    sign_in(page, site, "rectifier", PASSWORD, f"/cases/{cid}")
    page.set_input_files(
        "#files-rectified",
        files=[{"name": "拆除后.jpg", "mimeType": "image/jpeg", "buffer": scene(False)}],
    )
    page.fill("#area-rectified", "64.5")
    submit(page, "rectified")
    page.wait_for_selector("h1:has-text('监督检查')")

    page = page_for(browser, problems)
    sign_in(page, site, "supervisor", PASSWORD, f"/cases/{cid}")
    submit(page, "verified")
    page.wait_for_selector("h1:has-text('已结案')")
    assert page.locator("form.action").count() == 0
    done = case_of(api, cid)
    assert (
        done["stage"] == "closed"
        and done["outcome"] == "demolished"
        and done["demolished_m2"] == 64.5
    )
    assert [e["transition"] for e in done["timeline"] if e["transition"]] == [
        "confirm",
        "rule_illegal",
        "rectified",
        "verified",
    ]
    assert problems.console == [] and problems.axe == []


def test_field_report_with_a_photo_and_a_position_on_a_phone(
    api: Api, browser: Any, site: str
) -> None:
    problems = Problems()
    page = page_for(
        browser,
        problems,
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": 26.0342, "longitude": 119.2051, "accuracy": 8},
        permissions=["geolocation"],
    )
    sign_in(page, site, "inspector", PASSWORD, "/report")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    page.click("#locate")
    page.wait_for_function("() => document.querySelector('#lat').value !== ''")
    assert float(page.input_value("#lon")) == pytest.approx(119.2051, abs=1e-5)
    # the map follows the position; a tap on it moves the position, and so does a drag
    page.wait_for_selector("#pick-marker")
    page.locator("#pick-map svg").scroll_into_view_if_needed()
    box = page.locator("#pick-map svg").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    zoom = int(page.get_attribute("#pick-map", "data-zoom") or 0)
    start = (float(page.input_value("#lon")), float(page.input_value("#lat")))
    k = WIDTH / box["width"]  # SVG units (tile pixels) per CSS pixel
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.touchscreen.tap(cx + 60, cy - 40)
    tapped = moved(start, zoom, 60 * k, -40 * k)
    assert float(page.input_value("#lon")) == pytest.approx(tapped[0], abs=2e-6 * 2 ** (17 - zoom))
    assert float(page.input_value("#lat")) == pytest.approx(tapped[1], abs=2e-6 * 2 ** (17 - zoom))
    marker = page.locator("#pick-marker").bounding_box()
    mx, my = marker["x"] + marker["width"] / 2, marker["y"] + marker["height"] / 2
    assert (mx, my) == (pytest.approx(cx + 60, abs=1.5), pytest.approx(cy - 40, abs=1.5))
    page.mouse.move(mx, my)
    page.mouse.down()
    page.mouse.move(mx - 20, my + 30, steps=5)
    page.mouse.up()
    dragged = moved(start, zoom, 40 * k, -10 * k)
    assert float(page.input_value("#lon")) == pytest.approx(dragged[0], abs=2e-6 * 2 ** (17 - zoom))
    assert float(page.input_value("#lat")) == pytest.approx(dragged[1], abs=2e-6 * 2 ** (17 - zoom))
    page.fill("#lat", "26.03425")  # corrected by hand: the marker follows
    page.wait_for_function(
        "() => Math.abs(document.querySelector('#pick-marker').getAttribute('cy') - 120) < 0.01"
    )
    lon_on_map = float(page.input_value("#lon"))
    page.set_input_files(
        "#photos",
        files=[{"name": "IMG_0001.jpg", "mimeType": "image/jpeg", "buffer": jpeg(5, (320, 240))}],
    )
    page.fill("#description", "田里新建砖房")
    page.click("#report button[type=submit]")
    page.wait_for_url(f"{site}/cases/*")
    cid = int(page.url.rsplit("/", 1)[1])
    case = case_of(api, cid)
    assert case["source"] == "manual" and case["unit"] == "闽侯县/南屿镇/旗山村"
    assert case["lat"] == pytest.approx(26.03425) and case["lon"] == pytest.approx(lon_on_map)
    assert case["accuracy_m"] == pytest.approx(8) and case["description"] == "田里新建砖房"
    assert any(e["kind"] == "photo" for e in case["evidence"])
    page.goto(f"{site}/report")
    page.click("button.zero")
    page.wait_for_selector(".checkin .badge.ok")
    table = api.client.get("/api/v1/checkins", headers=api.auth("leader")).json()
    assert {u["unit"]: u["status"] for u in table["units"]}["闽侯县/南屿镇/旗山村"] == "zero"
    assert problems.console == [] and problems.axe == []


def test_language_switch_changes_the_text_and_stays_and_the_charts_draw(
    api: Api, browser: Any, site: str
) -> None:
    ingest(api, 1, (100, 100, 200, 180))
    problems = Problems()
    page = page_for(browser, problems)
    sign_in(page, site, "leader", PASSWORD, "/cases")
    assert page.inner_text("h1") == "案件"
    page.click("a.lang[lang=en]")
    page.wait_for_selector("h1:text-is('Cases')")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    page.click("nav >> text=Statistics")
    page.wait_for_selector("h1:text-is('Statistics')")
    page.goto(f"{site}/stats?from=2026-11-01&to=2026-12-31")
    page.wait_for_function(
        "() => document.querySelectorAll('.chart[data-drawn] canvas').length === 4"
    )
    painted = page.evaluate("""() => [...document.querySelectorAll('.chart canvas')].map((c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; })""")
    assert len(painted) == 4 and all(n > 100 for n in painted) and painted[0] > 2000, painted
    page.click("a.lang[lang=zh-CN]")
    page.wait_for_selector("h1:text-is('统计')")
    assert problems.console == []


def test_case_map_draws_the_zone_and_asks_a_tile_server_only_when_one_is_named(
    api: Api, browser: Any, site: str, tmp_path: Path
) -> None:
    with_outlines(api, tmp_path)
    cid = ingest(api, 1, (280, 200, 360, 260))
    problems = Problems()
    page = page_for(browser, problems, viewport=PHONE)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    sign_in(page, site, "leader", PASSWORD, f"/cases/{cid}")
    zone = page.locator("#case-map polygon.zone-outline").bounding_box()
    point = page.locator("#case-map circle.point").bounding_box()
    assert zone["width"] > 50 and zone["height"] > 20
    assert zone["x"] < point["x"] and point["x"] + point["width"] < zone["x"] + zone["width"]
    assert [u for u in asked if not u.startswith(site)] == []  # offline: nothing elsewhere
    with tile_server() as (tiles, seen):
        layer = TileLayer(tiles + "/{z}/{x}/{y}.png", "© test tiles")
        api.services.settings = replace(api.services.settings, tiles=layer)
        page.goto(f"{site}/cases/{cid}", wait_until="load")
        hrefs = page.eval_on_selector_all(
            "#case-map .tiles image", "(els) => els.map((e) => e.getAttribute('href'))"
        )
        deadline = time.monotonic() + 10
        while len(set(seen)) < len(hrefs) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert hrefs and {tiles + p for p in seen} == set(hrefs)
        zoom = int(page.get_attribute("#case-map", "data-zoom") or 0)
        assert all(re.fullmatch(rf"/{zoom}/\d+/\d+\.png", p) for p in seen)
        assert "© test tiles" in page.inner_text("figure.map figcaption")
        axe_check(page, problems, "case map with tiles")
    assert problems.console == [] and problems.axe == []

"""The pages over plain HTTP: who may open which page, the language switch, the catalogues."""

from __future__ import annotations

import io
import re

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from api.pages import labels
from api.pages.i18n import LANGUAGES, LOCALE_DIR, gettext_for
from api.policy import ROUTES
from models.workflow import TRANSITIONS
from tests.pages.conftest import ROLES, Api, cookie_client, jpeg, new_case

PAGES = {n: r for n, r in ROUTES.items() if n.startswith("pages.") and r.roles is not None}


def _path(name: str, case_id: int) -> str:
    return ROUTES[name].path.replace("{case_id}", str(case_id))


def test_each_page_opens_for_its_roles_and_refuses_the_others(api: Api) -> None:
    cid = new_case(api, 1)
    anonymous = cookie_client(api, "leader")
    anonymous.cookies.clear()
    for name in PAGES:
        r = anonymous.get(_path(name, cid), follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), name
    for who in ROLES:
        c = cookie_client(api, who)
        for name, rule in PAGES.items():
            r = c.get(_path(name, cid), follow_redirects=False)
            holds = any(
                role.value == who or (who == "office" and role.value == "accountability")
                for role in rule.roles or ()
            )
            if holds:
                assert r.status_code == 200, (who, name, r.text[:300])
                assert r.headers["content-type"].startswith("text/html")
            else:
                assert r.status_code == 403 and "无权访问" in r.text, (who, name, r.status_code)


def test_case_page_is_a_404_outside_the_callers_units(api: Api) -> None:
    cid = new_case(api, 1)  # 南屿镇
    r = cookie_client(api, "determiner2").get(f"/cases/{cid}")
    assert r.status_code == 404


def test_buttons_are_exactly_the_transitions_the_api_lists(api: Api) -> None:
    cid = new_case(api, 1)
    for who in ("operator", "determiner", "leader"):
        c = cookie_client(api, who)
        listed = [
            t["name"] for t in c.get(f"/api/v1/cases/{cid}/transitions").json()["transitions"]
        ]
        shown = re.findall(r'data-transition="([a-z_]+)"', c.get(f"/cases/{cid}").text)
        assert shown == listed, who
    assert listed == [] and shown == []  # the leader reads only


def test_language_switch_is_remembered_and_stays_on_the_page(api: Api) -> None:
    c = cookie_client(api, "leader")
    assert '<html lang="zh-CN">' in c.get("/cases").text and "案件" in c.get("/cases").text
    r = c.get("/lang/en?next=/cases%3Fview%3Dlist", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/cases?view=list"
    page = c.get("/cases?view=list").text
    assert '<html lang="en">' in page and ">Cases<" in page and "看板" not in page
    assert c.get("/lang/xx").status_code == 404
    away = c.get("/lang/zh_CN?next=//evil.example/", follow_redirects=False)
    assert away.headers["location"] == "/"


def test_home_sends_each_role_to_its_first_page(api: Api) -> None:
    expect = {"operator": "/review", "inspector": "/cases", "admin": "/cameras"}
    for who, where in expect.items():
        r = cookie_client(api, who).get("/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == where, who
    anonymous = cookie_client(api, "admin")
    anonymous.cookies.clear()
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/login"


def test_dates_are_shown_in_the_site_time_zone(api: Api) -> None:
    cid = new_case(api, 1)  # opened at the test clock: 09:00 in Asia/Shanghai (01:00 UTC)
    c = cookie_client(api, "leader")
    page = c.get(f"/cases/{cid}").text
    shown = re.findall(r">([^<>]*2026[^<>]*)<", page)
    assert "2026/11/30 09:00" in shown and not any("01:00" in s for s in shown), shown
    english = cookie_client(api, "leader")
    english.cookies.set("sw_lang", "en")
    assert "11/30/26, 9:00" in english.get(f"/cases/{cid}").text


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_compiled_catalogue_matches_its_po_file(lang: str) -> None:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as f:
        po = {m.id: m.string for m in read_po(f) if m.id}
    with (folder / "messages.mo").open("rb") as f:
        mo = {m.id: m.string for m in read_mo(f) if m.id}
    assert po and mo == po, "run: pybabel compile -d api/pages/locale"
    assert all(po.values()), "untranslated messages"


def test_every_shown_name_is_in_the_catalogues_and_the_chinese_matches_the_workflow() -> None:
    zh = gettext_for("zh_CN")
    with (LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        ids = {m.id for m in read_po(f)}
    for table in labels.ALL.values():
        assert set(table.values()) <= ids
    for name, t in TRANSITIONS.items():
        assert zh(labels.TRANSITIONS[name]) == t.label, name


def test_catalogue_sources_are_readable() -> None:
    assert io.BytesIO((LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po").read_bytes()).read(1)


def _report(api: Api, who: str, unit: str, lon: float, lat: float) -> int:
    r = api.client.post(
        "/api/v1/reports",
        headers=api.auth(who),
        data={"unit": unit, "lon": str(lon), "lat": str(lat), "accuracy_m": "5"},
        files=[("photos", ("p.jpg", jpeg(1), "image/jpeg"))],
    )
    assert r.status_code == 201, r.text
    return int(r.json()["case_id"])


def test_case_map_shows_the_visible_cases_nearby_and_only_those(api: Api) -> None:
    a = _report(api, "inspector", "南屿镇/旗山村", 119.2051, 26.0342)
    b = _report(api, "inspector", "南屿镇/旗山村", 119.2071, 26.0350)  # ~200 m away
    far = _report(api, "inspector", "南屿镇/旗山村", 119.3051, 26.0342)  # ~10 km away
    foreign = _report(api, "inspector2", "上街镇/榕桥村", 119.2055, 26.0345)
    links = {
        who: set(
            re.findall(
                r'<a href="/cases/(\d+)"><circle', cookie_client(api, who).get(f"/cases/{a}").text
            )
        )
        for who in ("determiner", "leader")
    }
    assert links["determiner"] == {str(b)}
    assert links["leader"] == {str(b), str(foreign)} and str(far) not in links["leader"]

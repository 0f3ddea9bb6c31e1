"""The whole life of a camera case and of a manual report, through HTTP only."""

from __future__ import annotations

import io

import pytest

from tests.api.conftest import Api, jpeg, new_case
from tests.models.conftest import detection


def _take(api: Api, who: str, case_id: int, name: str, **fields: object) -> dict[str, object]:
    r = api.client.post(
        f"/api/v1/cases/{case_id}/transitions", json={"name": name, **fields}, headers=api.auth(who)
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_camera_case_through_http(api: Api) -> None:
    first = api.ingest(detection(1))
    assert first.status_code == 201  # type: ignore[attr-defined]
    body = first.json()  # type: ignore[attr-defined]
    assert body["opened"] and not body["attached"]
    again = api.ingest(detection(1))
    assert again.status_code == 200 and again.json() == body  # type: ignore[attr-defined]
    cid = body["case_id"]
    case = api.client.get(f"/api/v1/cases/{cid}", headers=api.auth("operator")).json()
    assert case["stage"] == "report" and [t["name"] for t in case["transitions"]] == [
        "confirm",
        "dismiss",
    ]
    assert case["evidence"][0]["kind"] == "snapshot"
    # the determiner sees the case but may take nothing yet
    det = api.client.get(f"/api/v1/cases/{cid}/transitions", headers=api.auth("determiner")).json()
    assert det["transitions"] == []
    _take(api, "operator", cid, "confirm", label="scaffolding")
    _take(api, "determiner", cid, "rule_illegal", comment="未批先建")
    photo = api.client.post(
        f"/api/v1/cases/{cid}/transitions",
        headers=api.auth("rectifier"),
        data={"name": "rectified", "area_m2": "64.5", "comment": "已拆除"},
        files=[("files", ("after.jpg", jpeg(3), "image/jpeg"))],
    )
    assert photo.status_code == 201, photo.text
    assert photo.json()["case"]["stage"] == "verify"
    gone = api.ingest(detection(1, (102, 98, 201, 181), event="gone") | {"id": "f" * 16})
    assert gone.json()["case_id"] == cid  # type: ignore[attr-defined]
    done = _take(api, "supervisor", cid, "verified")
    case = done["case"]
    assert case["stage"] == "closed" and case["outcome"] == "demolished"  # type: ignore[index]
    kinds = [e["kind"] for e in case["timeline"]]  # type: ignore[index]
    assert kinds == [
        "opened",
        "transition",
        "transition",
        "transition",
        "camera_gone",
        "transition",
    ]
    ev = next(e for e in case["evidence"] if e["kind"] == "photo")  # type: ignore[index]
    got = api.client.get(ev["url"], headers=api.auth("leader"))
    assert got.status_code == 200 and got.content == jpeg(3)
    stats = api.client.get(
        "/api/v1/stats?from=2026-11-01&to=2026-12-31", headers=api.auth("leader")
    )
    assert stats.json()["demolished_m2_by_town"] == {"南屿镇": {"2026-11": 64.5}}


def test_manual_report_and_check_in_through_http(api: Api) -> None:
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
        files=[("photos", ("IMG_0001.jpg", jpeg(5), "image/jpeg"))],
    )
    assert r.status_code == 201, r.text
    cid = r.json()["case_id"]
    ci = api.client.post(
        "/api/v1/checkins",
        json={"unit": "南屿镇/旗山村", "case_ids": [cid]},
        headers=api.auth("inspector"),
    )
    assert ci.status_code == 201 and ci.json()["kind"] == "cases"
    zero = api.client.post(
        "/api/v1/checkins", json={"unit": "上街镇/榕桥村"}, headers=api.auth("inspector2")
    )
    assert zero.json()["kind"] == "zero"
    table = api.client.get("/api/v1/checkins", headers=api.auth("leader")).json()
    assert {u["unit"]: u["status"] for u in table["units"]}["闽侯县/南屿镇/南井村"] == "missing"
    _take(api, "inspector", cid, "confirm")
    rule = api.client.post(
        f"/api/v1/cases/{cid}/transitions",
        headers=api.auth("determiner"),
        data={"name": "rule_legal", "comment": "有建房许可"},
        files=[
            (
                "files",
                (
                    "许可证.pdf",
                    b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
                    "application/pdf",
                ),
            )
        ],
    )
    assert rule.status_code == 201, rule.text
    case = rule.json()["case"]
    assert case["stage"] == "closed" and case["outcome"] == "not_illegal"
    assert case["lon"] == pytest.approx(119.2051)


def test_case_list_filters_and_pages(api: Api) -> None:
    ids = [new_case(api, n) for n in range(1, 8)]
    new_case(api, 20, camera="cam2")
    api.clock.advance(minutes=1)
    seen: list[int] = []
    url = "/api/v1/cases?limit=3&camera=cam1"
    while url:
        page = api.client.get(url, headers=api.auth("leader")).json()
        seen += [c["id"] for c in page["items"]]
        url = f"/api/v1/cases?limit=3&camera=cam1&next={page['next']}" if page["next"] else ""
    assert sorted(seen) == sorted(ids) and len(seen) == len(set(seen))
    mine = api.client.get("/api/v1/cases", headers=api.auth("operator2")).json()["items"]
    assert [c["camera"] for c in mine] == ["cam2"]  # scoped to 上街镇
    bad = api.client.get("/api/v1/cases?stage=nope", headers=api.auth("leader"))
    assert bad.status_code == 422
    csv = api.client.get("/api/v1/exports/cases.csv?camera=cam1", headers=api.auth("leader"))
    assert csv.status_code == 200 and csv.content.startswith("\ufeff".encode())
    assert len(csv.content.decode("utf-8-sig").strip().splitlines()) == 1 + len(ids)


def test_excel_and_pdf_exports_hold_the_chinese_text(api: Api) -> None:
    import openpyxl
    from pypdf import PdfReader

    cid = new_case(api, 1)
    _take(api, "operator", cid, "confirm")
    _take(api, "determiner", cid, "rule_illegal", comment="未批先建，责令拆除")
    x = api.client.get("/api/v1/exports/cases.xlsx", headers=api.auth("leader"))
    assert x.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(x.content), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][0] == "编号 id" and rows[1][0] == cid and rows[1][4] == "闽侯县/南屿镇/旗山村"
    s = api.client.get(
        "/api/v1/exports/stats.xlsx?from=2026-11-01&to=2026-12-31", headers=api.auth("leader")
    )
    assert s.status_code == 200
    names = openpyxl.load_workbook(io.BytesIO(s.content), read_only=True).sheetnames
    assert names == ["cases by town", "on time", "demolished", "false alarms"]
    pdf = api.client.get(f"/api/v1/cases/{cid}/dossier.pdf", headers=api.auth("office"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages).replace(
        "\x00", ""
    )
    assert "未批先建" in text and "旗山村" in text

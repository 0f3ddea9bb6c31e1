"""CSV, Excel and the PDF dossier: they open in the usual readers and hold the Chinese text."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from PIL import Image
from pypdf import PdfReader

from api.exports import (
    CaseDossier,
    DossierEvent,
    DossierImage,
    FontNotFoundError,
    Sheet,
    _pick_fonts,
    dossier_pdf,
    find_cjk_fonts,
    iter_csv,
    write_xlsx,
    xlsx_tempfile,
)

CST = timezone(timedelta(hours=8))
HEADER = ["案件编号", "镇街", "阶段", "面积(m²)", "发现时间", "说明"]


def rows(n: int) -> list[list[object]]:
    t0 = datetime(2026, 11, 26, 9, 30, tzinfo=CST)
    return [
        [f"SW-{i:06d}", "南屿镇" if i % 2 else "上街镇", "快速认定", 12.5 + i,
         t0 + timedelta(minutes=i), f"旗山村村口钢棚 {i}"]
        for i in range(n)
    ]  # fmt: skip


def text_of(pdf: bytes) -> str:
    """The pages' text without white space. pypdf reads fpdf2's embedded /Encoding CMap
    (2-byte codes, codespace <0000>-<FFFF>) one byte at a time, so every character comes
    out behind a NUL; the ToUnicode map itself is right, so the NULs are dropped here."""
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(p.extract_text() for p in reader.pages).replace("\x00", "")
    return "".join(text.split())


def test_csv_has_a_bom_and_round_trips() -> None:
    data = rows(1203) + [["SW-X", '=HYPERLINK("http://x")', "+1", None, date(2026, 1, 2), "-"]]
    body = b"".join(iter_csv(HEADER, data))  # type: ignore[arg-type]
    assert body.startswith(b"\xef\xbb\xbf")
    back = list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert back[0] == HEADER
    assert len(back) == 1 + len(data)
    assert back[1] == ["SW-000000", "上街镇", "快速认定", "12.5", "2026-11-26T09:30:00+08:00",
                       "旗山村村口钢棚 0"]  # fmt: skip
    assert back[1000][0] == "SW-000999" and back[1203][5] == "旗山村村口钢棚 1202"
    # cells a spreadsheet would run as formulas are made text
    assert back[-1] == ["SW-X", '\'=HYPERLINK("http://x")', "'+1", "", "2026-01-02", "'-"]


def test_excel_opens_with_openpyxl_and_holds_the_rows(tmp_path: Path) -> None:
    data = rows(5000)
    data.append(["SW-F", "=1+1", "阶段", 3, date(2026, 12, 1), "@SUM(A1)"])
    stats = Sheet("统计", ["镇街", "案件数", "拆除面积(m²)"], [["南屿镇", 12, 1422.5]])
    path = write_xlsx(tmp_path / "cases.xlsx", [Sheet("案件", HEADER, data), stats])
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["案件", "统计"]
    got = list(wb["案件"].iter_rows(values_only=True))
    assert list(got[0]) == HEADER
    assert len(got) == 1 + len(data)
    first = got[1]
    assert first[:4] == ("SW-000000", "上街镇", "快速认定", 12.5)
    assert first[4] == datetime(2026, 11, 26, 9, 30)  # local wall time of the site
    assert got[4000][5] == "旗山村村口钢棚 3999"
    assert got[-1][1] == "=1+1" and got[-1][5] == "@SUM(A1)"  # text, never formulas
    assert list(wb["统计"].iter_rows(values_only=True))[1] == ("南屿镇", 12, 1422.5)


def test_excel_tempfile_is_cleaned_up_on_error(tmp_path: Path) -> None:
    path = xlsx_tempfile([Sheet("a", ["x"], [[1]])], directory=tmp_path)
    assert path.suffix == ".xlsx" and openpyxl.load_workbook(path).active["A2"].value == 1

    def broken() -> list[list[object]]:
        raise RuntimeError("database went away")

    class Rows:
        def __iter__(self):  # type: ignore[no-untyped-def]
            return iter(broken())

    with pytest.raises(RuntimeError):
        xlsx_tempfile([Sheet("a", ["x"], Rows())], directory=tmp_path)
    assert list(tmp_path.iterdir()) == [path]


def picture(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (320, 240)) -> Path:
    Image.new("RGB", size, colour).save(path)
    return path


def dossier(tmp_path: Path) -> CaseDossier:
    t0 = datetime(2026, 11, 26, 9, 30, tzinfo=CST)
    return CaseDossier(
        case_id="SW-2026-000123",
        title="疑似违建：旗山村村口新增钢棚",
        facts=(
            ("所属单位", "闽侯县/南屿镇/旗山村"),
            ("发现方式", "摄像头 cam-1"),
            ("拆除面积", "86.5 平方米"),
        ),
        events=(
            DossierEvent(t0 + timedelta(days=1), "李四（认定）", "认定违建", "无规划许可"),
            DossierEvent(t0, "系统", "发现报告", "摄像头自动发现"),
            DossierEvent(t0 + timedelta(days=3), "王五（拆除）", "拆除完成", "上传拆除照片"),
        ),
        before=DossierImage("整治前", picture(tmp_path / "before.jpg", (200, 40, 40))),
        after=DossierImage("整治后", picture(tmp_path / "after.png", (40, 200, 40))),
        snapshot=DossierImage(
            "现场截图", picture(tmp_path / "snap.jpg", (0, 0, 200), (1920, 1080))
        ),
        photos=tuple(
            DossierImage(f"照片{i}", picture(tmp_path / f"p{i}.jpg", (i * 40, 90, 90), (300, 600)))
            for i in range(5)
        ),
        generated_at=t0 + timedelta(days=4),
    )


def test_dossier_pdf_holds_the_chinese_text_and_images(tmp_path: Path) -> None:
    pdf = dossier_pdf(dossier(tmp_path))
    reader = PdfReader(io.BytesIO(pdf))
    text = text_of(pdf)
    for expected in ("疑似违建：旗山村村口新增钢棚", "SW-2026-000123", "闽侯县/南屿镇/旗山村",
                     "李四（认定）", "认定违建", "无规划许可", "王五（拆除）", "整治前", "照片4",
                     "办理过程"):  # fmt: skip
        assert expected in text, expected
    # the timeline is in time order whatever order the events came in
    assert text.index("发现报告") < text.index("认定违建") < text.index("拆除完成")
    images = sum(len(page.images) for page in reader.pages)
    assert images == 8
    fonts = {
        str(f["/BaseFont"])
        for page in reader.pages
        for f in page["/Resources"]["/Font"].values()  # type: ignore[index,union-attr]
    }
    assert any("CJK" in f for f in fonts), fonts
    assert len(pdf) < 2_000_000  # a subset of the font is embedded, not the 20 MB collection


def test_dossier_without_images_or_events(tmp_path: Path) -> None:
    pdf = dossier_pdf(CaseDossier(case_id="SW-1", title="群众举报：屋顶加建", facts=()))
    assert "群众举报：屋顶加建" in text_of(pdf)


def test_font_lookup_prefers_simplified_chinese_sans() -> None:
    listing = "\n".join([
        "/f/NotoSerifCJK-Regular.ttc: Noto Serif CJK SC:style=Regular:index=2",
        "/f/NotoSansCJK-Regular.ttc: Noto Sans CJK JP:style=Regular:index=0",
        "/f/NotoSansCJK-Regular.ttc: Noto Sans CJK SC:style=Regular:index=2",
        "/f/NotoSansCJK-Bold.ttc: Noto Sans Mono CJK SC:style=Bold:index=7",
        "/f/NotoSansCJK-Bold.ttc: Noto Sans CJK SC:style=Bold:index=2",
    ])  # fmt: skip
    fonts = _pick_fonts(listing)
    assert fonts[""] == (Path("/f/NotoSansCJK-Regular.ttc"), 2)
    assert fonts["B"] == (Path("/f/NotoSansCJK-Bold.ttc"), 2)
    only = _pick_fonts("/f/wqy-microhei.ttc: WenQuanYi Micro Hei:style=Regular:index=0")
    assert only["B"] == only[""]
    with pytest.raises(FontNotFoundError, match="fonts-noto-cjk"):
        _pick_fonts("")


def test_installed_cjk_font_is_found() -> None:
    fonts = find_cjk_fonts()
    assert fonts[""][0].is_file()

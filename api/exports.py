"""Exports the offices use: tables as CSV and Excel, and a case dossier as PDF (in Chinese).

- CSV: UTF-8 with a byte-order mark (Excel then reads Chinese correctly), streamed.
- Excel: XlsxWriter in ``constant_memory`` mode (rows are flushed as written, so a
  100 000-row list needs no more memory than a short one), into a temporary file.
- PDF: fpdf2 embedding a subset of the installed Noto Sans CJK font.

Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR
first) are written as text: in Excel with ``write_string``, in CSV behind a ``'``.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from fpdf import FPDF
from fpdf.enums import XPos, YPos

Cell = str | int | float | date | datetime | None
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class FontNotFoundError(RuntimeError):
    """No CJK font is installed (Debian: ``fonts-noto-cjk``)."""


# -- CSV ---------------------------------------------------------------------------------


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str):
        return "'" + value if value.startswith(_FORMULA_START) else value
    return str(value)


def iter_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    """CSV as UTF-8 byte chunks, BOM first; for a ``StreamingResponse``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff".encode() + buf.getvalue().encode("utf-8")
    buf.seek(0)
    buf.truncate()
    for i, row in enumerate(rows, 1):
        writer.writerow([_csv_cell(v) for v in row])
        if i % 500 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if buf.tell():
        yield buf.getvalue().encode("utf-8")


# -- Excel -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sheet:
    name: str  # ≤ 31 characters, no []:*?/\
    header: Sequence[str]
    rows: Iterable[Sequence[Cell]]
    widths: Sequence[float] = field(default_factory=tuple)


def write_xlsx(path: Path, sheets: Sequence[Sheet]) -> Path:
    """Write ``sheets`` to ``path`` (constant memory); returns ``path``."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "remove_timezone": True})
    try:
        bold = wb.add_format({"bold": True})
        stamp = wb.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        day = wb.add_format({"num_format": "yyyy-mm-dd"})
        for sheet in sheets:
            ws = wb.add_worksheet(sheet.name)
            for col, width in enumerate(sheet.widths):
                ws.set_column(col, col, width)
            for col, title in enumerate(sheet.header):
                ws.write_string(0, col, title, bold)
            ws.freeze_panes(1, 0)
            for r, row in enumerate(sheet.rows, 1):
                for c, value in enumerate(row):
                    _write_cell(ws, r, c, value, stamp, day)
    finally:
        wb.close()
    return path


def _write_cell(ws: Any, r: int, c: int, value: Cell, stamp: Any, day: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        ws.write_boolean(r, c, value)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value)
    elif isinstance(value, datetime):
        ws.write_datetime(r, c, value, stamp)
    elif isinstance(value, date):
        ws.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
    else:
        ws.write_string(r, c, str(value))  # never a formula


def xlsx_tempfile(sheets: Sequence[Sheet], directory: Path | None = None) -> Path:
    """Write ``sheets`` to a new temporary .xlsx file; the caller deletes it after sending."""
    fd, name = tempfile.mkstemp(suffix=".xlsx", dir=directory)
    os.close(fd)
    try:
        return write_xlsx(Path(name), sheets)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


# -- PDF dossier -------------------------------------------------------------------------


@dataclass(frozen=True)
class DossierEvent:
    at: datetime
    actor: str  # who: name and role, e.g. "张三（认定）"
    action: str  # what: e.g. "认定违建"
    note: str = ""


@dataclass(frozen=True)
class DossierImage:
    caption: str
    path: Path  # a JPEG or PNG, e.g. EvidenceStore.path_for(key)


@dataclass(frozen=True)
class CaseDossier:
    case_id: str
    title: str
    facts: tuple[tuple[str, str], ...]  # (label, value), e.g. ("所属单位", "南屿镇/旗山村")
    events: tuple[DossierEvent, ...] = ()
    before: DossierImage | None = None
    after: DossierImage | None = None
    snapshot: DossierImage | None = None
    photos: tuple[DossierImage, ...] = ()
    generated_at: datetime | None = None


def find_cjk_fonts() -> dict[str, tuple[Path, int]]:
    """``{"": (file, index), "B": (file, index)}``: regular and bold CJK fonts (fc-list)."""
    env = os.environ.get("SITEWATCH_FONT")
    if env:
        if not Path(env).is_file():
            raise FontNotFoundError(f"SITEWATCH_FONT={env} is not a file")
        return {"": (Path(env), 0), "B": (Path(env), 0)}
    try:
        out = subprocess.run(
            ["fc-list", ":lang=zh", "file", "index", "family", "style"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise FontNotFoundError(f"fc-list failed: {exc}") from exc
    return _pick_fonts(out)


def _pick_fonts(fc_list_output: str) -> dict[str, tuple[Path, int]]:
    best: dict[str, tuple[int, Path, int]] = {}
    for line in fc_list_output.splitlines():
        path, _, rest = line.partition(": ")
        family = rest.split(":", 1)[0]
        index = int(rest.rsplit("index=", 1)[1]) if "index=" in rest else 0
        if not path.endswith((".ttf", ".ttc", ".otf")) or "Mono" in family:
            continue
        rank = 3 if "Sans CJK SC" in family else 2 if "Sans CJK" in family else 1
        style = "B" if "style=Bold" in rest else "" if "style=Regular" in rest else None
        if style is not None and rank > best.get(style, (0, Path(), 0))[0]:
            best[style] = (rank, Path(path), index)
    if "" not in best:
        raise FontNotFoundError("no CJK font installed: install Debian fonts-noto-cjk")
    best.setdefault("B", best[""])
    return {style: (p, i) for style, (_, p, i) in best.items()}


class _DossierPdf(FPDF):
    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("cjk", size=8)
        self.cell(0, 8, f"{self.page_no()}/{{nb}}", align="C")


def dossier_pdf(dossier: CaseDossier, fonts: dict[str, tuple[Path, int]] | None = None) -> bytes:
    """The case dossier as PDF bytes (fonts: see ``find_cjk_fonts``)."""
    fonts = fonts or find_cjk_fonts()
    pdf = _DossierPdf(format="A4")
    pdf.set_title(f"{dossier.case_id} {dossier.title}")
    for style, (path, index) in fonts.items():
        pdf.add_font("cjk", style, str(path), collection_font_number=index)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("cjk", "B", 16)
    pdf.multi_cell(0, 9, dossier.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=10)
    made = f"  生成于 {dossier.generated_at:%Y-%m-%d %H:%M}" if dossier.generated_at else ""
    pdf.cell(0, 6, f"案件编号 {dossier.case_id}{made}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    _facts(pdf, dossier.facts)
    _timeline(pdf, dossier.events)
    pairs = [i for i in (dossier.before, dossier.after) if i is not None]
    if pairs:
        _heading(pdf, "整治前后对比")
        _images(pdf, pairs, per_row=2)
    if dossier.snapshot is not None:
        _heading(pdf, "现场截图")
        _images(pdf, [dossier.snapshot], per_row=1)
    if dossier.photos:
        _heading(pdf, "现场照片")
        _images(pdf, list(dossier.photos), per_row=2)
    return bytes(pdf.output())


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(3)
    pdf.set_font("cjk", "B", 12)
    pdf.cell(0, 8, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("cjk", size=10)


def _facts(pdf: FPDF, facts: Sequence[tuple[str, str]]) -> None:
    if not facts:
        return
    _heading(pdf, "案件信息")
    with pdf.table(col_widths=(1, 3), first_row_as_headings=False, line_height=6) as table:
        for label, value in facts:
            row = table.row()
            row.cell(label)
            row.cell(value)


def _timeline(pdf: FPDF, events: Sequence[DossierEvent]) -> None:
    if not events:
        return
    _heading(pdf, "办理过程")
    with pdf.table(col_widths=(3, 3, 3, 5), line_height=6) as table:
        head = table.row()
        for title in ("时间", "人员", "操作", "说明"):
            head.cell(title)
        for ev in sorted(events, key=lambda e: e.at):
            row = table.row()
            row.cell(f"{ev.at:%Y-%m-%d %H:%M}")
            row.cell(ev.actor)
            row.cell(ev.action)
            row.cell(ev.note)


def _images(pdf: FPDF, images: Sequence[DossierImage], per_row: int) -> None:
    gap = 4.0
    width = (pdf.epw - gap * (per_row - 1)) / per_row
    for start in range(0, len(images), per_row):
        row = images[start : start + per_row]
        height = max(_height_at(img, width) for img in row) + 7
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        top = pdf.get_y()
        for i, img in enumerate(row):
            x = pdf.l_margin + i * (width + gap)
            h = _height_at(img, width)
            pdf.image(str(img.path), x=x, y=top, w=width, h=h, keep_aspect_ratio=True)
            pdf.set_xy(x, top + h + 1)
            pdf.cell(width, 5, img.caption, align="C")
        pdf.set_xy(pdf.l_margin, top + height)


def _height_at(img: DossierImage, width: float) -> float:
    from PIL import Image

    with Image.open(img.path) as im:
        w, h = im.size
    return min(width * h / max(w, 1), 180.0)

"""Exports the offices use: the case list and the statistics as CSV or Excel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from api.deps import Principal, ServicesDep, SessionDep, require
from api.exports import Cell, Sheet, iter_csv, xlsx_tempfile
from api.policy import endpoint
from api.queries import case_query
from api.routes.cases import FilterDep
from api.routes.office import compute_stats, period_params, stats_scope

router = APIRouter(tags=["exports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_ROWS = 1_000_000
CASE_HEADER = (
    "编号 id",
    "来源 source",
    "阶段 stage",
    "结果 outcome",
    "单位 unit",
    "摄像头 camera",
    "区域 zone",
    "类别 label",
    "描述 description",
    "立案 opened",
    "期限 deadline",
    "结案 closed",
    "超期 overdue",
    "拆除面积 m²",
)


def _check_fmt(fmt: str) -> str:
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(404, f"exports come as .csv or .xlsx, not .{fmt}")
    return fmt


def _send(fmt: str, name: str, sheets: Sequence[Sheet]) -> Any:
    if fmt == "csv":
        header, rows = _one_table(sheets)
        return StreamingResponse(
            iter_csv(header, rows),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    path = xlsx_tempfile(sheets)
    return FileResponse(
        path,
        media_type=XLSX,
        filename=f"{name}.xlsx",
        background=BackgroundTask(Path(path).unlink, missing_ok=True),
    )


def _one_table(sheets: Sequence[Sheet]) -> tuple[Sequence[str], Iterator[Sequence[Cell]]]:
    """One sheet as it is; several as one long table: the sheet's name first on every row."""
    if len(sheets) == 1:
        return sheets[0].header, iter(sheets[0].rows)

    def rows() -> Iterator[Sequence[Cell]]:
        for sh in sheets[1:]:
            yield (sh.name, *sh.header)
            for r in sh.rows:
                yield (sh.name, *r)

    first = sheets[0]
    head = (first.name, *first.header)
    return head, iter([*((first.name, *r) for r in first.rows), *rows()])


@endpoint(router, "exports.cases")
def export_cases(
    fmt: str,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("exports.cases"))],
    f: FilterDep,
) -> Any:
    _check_fmt(fmt)
    now = services.clock()
    cal = services.policy.calendar
    q = case_query(db, principal, f, now).limit(MAX_ROWS)

    def rows() -> Iterator[Sequence[Cell]]:
        for c, path in db.execute(q.execution_options(yield_per=1000)):
            late = c.deadline_at is not None and c.deadline_at < now
            yield (
                c.id,
                c.source,
                c.stage,
                c.outcome or "",
                path,
                c.camera_id or "",
                c.zone_id or "",
                c.label,
                c.description,
                cal.local(c.opened_at).replace(tzinfo=None),
                cal.local(c.deadline_at).replace(tzinfo=None) if c.deadline_at else "",
                cal.local(c.closed_at).replace(tzinfo=None) if c.closed_at else "",
                "是" if late else "",
                c.demolished_m2 if c.demolished_m2 is not None else "",
            )

    return _send(fmt, "cases", [Sheet("cases", CASE_HEADER, rows())])


def stats_sheets(data: dict[str, Any]) -> list[Sheet]:
    """The statistics of ``compute_stats`` as four tables (one Excel sheet each)."""
    stages = ("report", "determine", "rectify", "verify", "closed")
    by_town = [(t, *(v[st] for st in stages)) for t, v in sorted(data["cases_by_town"].items())]
    timing = [
        (t["stage"], t["role"], t["finished"], t["on_time"], t["on_time_rate"] or "",
         t["mean_hours"] or "", t["p90_hours"] or "", t["overdue_open"])
        for t in data["stages"]
    ]  # fmt: skip
    area = [
        (t, m, v)
        for t, b in sorted(data["demolished_m2_by_town"].items())
        for m, v in sorted(b.items())
    ]
    reviews = [
        (r["camera"], r["zone"], r["confirmed"], r["dismissed"], r["pending"],
         "" if r["false_alarm_rate"] is None else r["false_alarm_rate"])
        for r in data["reviews"]
    ]  # fmt: skip
    on_time = ("stage", "role", "finished", "on time", "rate", "mean h", "p90 h", "overdue")
    alarms = ("camera", "zone", "confirmed", "dismissed", "pending", "false alarm rate")
    return [
        Sheet("cases by town", ("镇街 town", *stages), by_town),
        Sheet("on time", on_time, timing),
        Sheet("demolished", ("镇街 town", "month", "m²"), area),
        Sheet("false alarms", alarms, reviews),
    ]


@endpoint(router, "exports.stats")
def export_stats(
    fmt: str,
    services: ServicesDep,
    db: SessionDep,
    principal: Annotated[Principal, Depends(require("exports.stats"))],
    start: Annotated[dt.date | None, Query(alias="from")] = None,
    end: Annotated[dt.date | None, Query(alias="to")] = None,
    unit: Annotated[str | None, Query(max_length=200)] = None,
) -> Any:
    _check_fmt(fmt)
    start, end = period_params(services, start, end)
    data = compute_stats(services, db, stats_scope(db, principal, unit), start, end)
    return _send(fmt, f"stats-{start}-{end}", stats_sheets(data))

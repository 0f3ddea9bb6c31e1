"""A case's rows → the PDF dossier's plain values (Chinese labels, local times)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.exports import CaseDossier, DossierEvent, DossierImage
from api.views import event_view
from models.tables import Case, Evidence, Unit

STAGE_ZH = {
    "report": "发现报告",
    "determine": "快速认定",
    "rectify": "拆除整治",
    "verify": "监督检查",
    "closed": "已结案",
}
OUTCOME_ZH = {"dismissed": "误报排除", "not_illegal": "认定合法", "demolished": "拆除验收"}
KIND_ZH = {"opened": "立案", "attached": "摄像头再次发现", "camera_gone": "摄像头确认已拆除"}
IMAGE_TYPES = ("image/jpeg", "image/png")


def _local(services: Any, when: Any) -> str:
    if when is None:
        return "—"
    return str(services.policy.calendar.local(when).strftime("%Y-%m-%d %H:%M"))


def build_dossier(case: Case, unit: Unit, files: Sequence[Evidence], services: Any) -> CaseDossier:
    tz = services.policy.calendar.tz
    facts = (
        ("案件编号", str(case.id)),
        ("来源", "摄像头" if case.source == "camera" else "人工上报"),
        ("所属单位", unit.path),
        ("当前阶段", STAGE_ZH.get(case.stage, case.stage)),
        ("结果", OUTCOME_ZH.get(case.outcome or "", "—")),
        ("类别", case.label or "—"),
        ("描述", case.description or "—"),
        ("立案时间", _local(services, case.opened_at)),
        ("当前期限", _local(services, case.deadline_at)),
        ("拆除面积", f"{case.demolished_m2:g} m²" if case.demolished_m2 is not None else "—"),
        ("摄像头", f"{case.camera_id or '—'} / {case.zone_id or '—'}"),
    )
    events = []
    for e in case.events:
        v = event_view(e)
        action = v["label"] if e.transition else KIND_ZH.get(e.kind, e.kind)
        note = " ".join(x for x in (e.reason, e.comment) if x)
        if e.fields.get("area_m2") is not None:
            note = f"{note} 面积 {e.fields['area_m2']:g} m²".strip()
        events.append(DossierEvent(e.at.astimezone(tz), e.actor_name or "系统", action, note))
    images = {}
    photos = []
    for f in files:
        if f.media_type not in IMAGE_TYPES or not services.store.exists(f.storage_key):
            continue
        img = DossierImage(f"{f.kind} #{f.id}", services.store.path_for(f.storage_key))
        if f.kind in ("before", "after", "snapshot") and f.kind not in images:
            images[f.kind] = img
        elif f.kind == "photo":
            photos.append(img)
    return CaseDossier(
        case_id=str(case.id),
        title=f"违法建设案件 {case.id} 档案",
        facts=facts,
        events=tuple(events),
        before=images.get("before"),
        after=images.get("after"),
        snapshot=images.get("snapshot"),
        photos=tuple(photos[:12]),
        generated_at=services.clock().astimezone(tz),
    )

"""The words of the notifications, in each user's language (``zh``, ``en``).

Every message names the case, its stage, the unit and the local deadline; channel
messages (robots, webhooks, e-mail) add a link to the case page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from models.enums import Stage

LANGUAGES = ("zh", "en")

TEXT = {
    "zh": {
        "stage": "案件 #{case} 进入「{stage}」：{unit}，期限 {deadline}",
        "reject": "案件 #{case} 被退回整改：{unit}（{reason}）",
        "soon": "案件 #{case}「{stage}」将于 {deadline} 到期：{unit}",
        "missed": "案件 #{case}「{stage}」已超期（期限 {deadline}）：{unit}",
        "checkin": "{unit} 未在 {deadline} 前完成每日报告（{day}）",
        "offline": "摄像头 {camera} 离线，最后画面 {deadline}：{unit}",
        "test": "sitewatch 测试消息：通道「{channel}」可用",
    },
    "en": {
        "stage": "Case #{case} entered {stage}: {unit}, due {deadline}",
        "reject": "Case #{case} was sent back to rectify: {unit} ({reason})",
        "soon": "Case #{case} ({stage}) is due {deadline}: {unit}",
        "missed": "Case #{case} ({stage}) missed its deadline {deadline}: {unit}",
        "checkin": "{unit} did not check in by {deadline} ({day})",
        "offline": "Camera {camera} is offline since {deadline}: {unit}",
        "test": "sitewatch test message: channel {channel} works",
    },
}
STAGE_NAMES = {
    "zh": {
        "report": "发现报告",
        "determine": "快速认定",
        "rectify": "拆除整治",
        "verify": "监督检查",
    },
    "en": {s.value: s.value for s in Stage},
}
# words around the messages: the link's label and a digest's subject
WORDS = {
    "zh": {"open": "查看案件", "digest": "{n} 条通知", "none": "无期限"},
    "en": {"open": "Open the case", "digest": "{n} notifications", "none": "no deadline"},
}


def lang_of(lang: str | None) -> str:
    """A supported language code (``zh`` for anything else)."""
    return lang if lang in TEXT else "zh"


def render(lang: str, key: str, facts: dict[str, Any], tz: dt.tzinfo) -> str:
    """One message's text: ``key`` is the rule's kind, ``facts`` its case/stage/unit/…"""
    lang = lang_of(lang)
    shown = {"case": "", "stage": "", "unit": "", "reason": "", "day": "", "camera": ""}
    shown.update(facts)
    shown["stage"] = STAGE_NAMES[lang].get(str(facts.get("stage")), facts.get("stage") or "")
    if facts.get("deadline"):
        local = dt.datetime.fromisoformat(str(facts["deadline"])).astimezone(tz)
        shown["deadline"] = local.strftime("%Y-%m-%d %H:%M")
    else:
        shown["deadline"] = WORDS[lang]["none"]
    return TEXT[lang][key].format(**shown)


def word(lang: str, key: str, **kw: Any) -> str:
    return WORDS[lang_of(lang)][key].format(**kw)

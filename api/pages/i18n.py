"""Languages of the pages: Babel gettext catalogues, one Jinja2 environment per language,
dates in the site's time zone and numbers formatted per language.

The catalogues live in ``locale/{zh_CN,en}/LC_MESSAGES/messages.po`` with their compiled
``messages.mo`` next to them (committed; ``tests/pages/test_i18n.py`` checks they match).
Simplified Chinese is the default; the ``sw_lang`` cookie remembers a switch."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

HERE = Path(__file__).resolve().parent
LOCALE_DIR = HERE / "locale"
TEMPLATE_DIR = HERE / "templates"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
LANG_COOKIE = "sw_lang"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def language_of(cookie: str | None) -> str:
    """The language a cookie names, or the default for anything else."""
    return cookie if cookie in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(lang: str) -> NullTranslations:
    mo = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.mo"
    if not mo.is_file():
        raise FileNotFoundError(
            f"compiled catalogue {mo} is missing (pybabel compile -d {LOCALE_DIR})"
        )
    with mo.open("rb") as f:
        return Translations(f, domain="messages")


@dataclass(frozen=True)
class Formats:
    """Formatting for one language in the site's time zone."""

    lang: str
    tz: ZoneInfo

    def when(self, value: dt.datetime | None, fmt: str = "short") -> str:
        if value is None:
            return "—"
        return format_datetime(value, fmt, tzinfo=self.tz, locale=self.lang)

    def number(self, value: float | None, digits: int = 1) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "—"
        return format_decimal(round(value, digits), locale=self.lang)

    def percent(self, value: float | None) -> str:
        return "—" if value is None else format_percent(value, "#,##0.0%", locale=self.lang)

    def duration(self, seconds: float | None) -> str:
        if seconds is None:
            return "—"
        return format_timedelta(
            dt.timedelta(seconds=abs(seconds)),
            threshold=1.5,
            granularity="minute",
            locale=self.lang,
        )


def _environment(lang: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.globals["lang"] = lang
    env.globals["html_lang"] = HTML_LANG[lang]
    env.globals["languages"] = LANGUAGES
    return env


@cache
def environment(lang: str) -> Environment:
    if lang not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return _environment(lang)


def gettext_for(lang: str) -> Callable[[str], str]:
    return translations(lang).gettext


def formats(lang: str, tz: ZoneInfo) -> dict[str, Any]:
    f = Formats(lang, tz)
    return {"when": f.when, "number": f.number, "percent": f.percent, "duration": f.duration}

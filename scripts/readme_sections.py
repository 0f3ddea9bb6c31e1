"""Regenerate the generated parts of README.md (the config reference). Run after changing config."""

from __future__ import annotations

import re
from pathlib import Path

from sitewatch.config.reference import config_reference
from sitewatch.config.site import SiteConfig

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- config-reference:start -->", "<!-- config-reference:end -->"


def main() -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n{config_reference(SiteConfig)}{END}"
    text = re.sub(f"{re.escape(START)}\n.*?{re.escape(END)}", lambda _: block, text, flags=re.S)
    README.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()

"""The README stays true: its config reference is generated, and every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sitewatch.cli import build_parser
from sitewatch.config.reference import config_reference
from sitewatch.config.site import SiteConfig

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_config_reference_is_current() -> None:
    m = re.search(
        r"<!-- config-reference:start -->\n(.*?)<!-- config-reference:end -->", README, re.S
    )
    assert m, "README.md lacks the config-reference markers"
    assert m.group(1) == config_reference(SiteConfig), (
        "README config reference is stale: regenerate it with `sitewatch config reference`"
    )


def test_every_command_is_in_the_readme() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    commands = sorted(sub.choices)  # type: ignore[arg-type]
    assert commands, "no commands registered"
    missing = [c for c in commands if f"sitewatch {c}" not in README]
    assert not missing, f"commands missing from README.md: {missing}"


def test_example_config_mentions_every_key() -> None:
    example = (ROOT / "configs" / "example.yaml").read_text(encoding="utf-8")
    keys = re.findall(r"^\| `([^`]+)` \|", config_reference(SiteConfig), re.M)
    leaves = sorted({k.split(".")[-1].removesuffix("[]") for k in keys})
    missing = [leaf for leaf in leaves if f"{leaf}:" not in example]
    assert not missing, f"configs/example.yaml does not document: {missing}"


def test_help_lists_every_command_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = build_parser().format_help()
    section = text.split("COMMAND\n", 1)[1].splitlines()
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    names = [line.split()[0] for line in section if line.startswith("    ") and line.strip()]
    assert names == list(sub.choices)  # type: ignore[arg-type]
    wrapped = [line for line in section if line.startswith(" " * 6)]
    assert not wrapped, f"help lines wrap at 80 columns: {wrapped}"

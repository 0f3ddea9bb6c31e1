"""deploy/: what can be checked without a Docker engine. The compose file is YAML whose
sitewatch commands the CLI accepts, every host path it names exists (the secrets are made
by the steps in docs/deploy.md), the site file it mounts is a valid site, and the systemd
units run commands that exist."""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from sitewatch.cli import build_parser
from sitewatch.config import load_site
from tests.worker.conftest import ROOT

DEPLOY = ROOT / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _sitewatch_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        n: s for n, s in compose["services"].items() if s.get("image", "").startswith("sitewatch")
    }


def test_compose_services_and_commands(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"postgres", "mosquitto", "api", "worker"}
    ours = _sitewatch_services(compose)
    assert set(ours) == {"api", "worker"}
    parser = build_parser()
    for name, service in ours.items():
        command = service["command"]
        argv = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        assert argv[0] == "sitewatch", (name, argv)
        args = parser.parse_args(argv[1:])  # SystemExit (a failure) for an unknown option
        assert args.command == name and str(args.config) == "/etc/sitewatch/site.yaml"
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert mounts["/etc/sitewatch/site.yaml"] == "./site.yaml"
        for secret in service.get("secrets", []):
            assert secret in compose["secrets"], (name, secret)
        build = service["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve().is_file()


def test_every_host_path_exists(compose: dict[str, Any]) -> None:
    named = set(compose.get("volumes", {}))
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source in named:
                continue
            assert (DEPLOY / source).exists(), f"{name}: {source} does not exist"
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name, secret in compose["secrets"].items():
        path = Path(secret["file"])
        assert path.parts[:2] == (".", "secrets") or path.parts[0] == "secrets", path
        assert f"secrets/{path.name}" in guide, f"docs/deploy.md does not say how to make {name}"
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    for src in re.findall(r"^COPY\s+(\S+)\s", dockerfile, re.M):
        assert (ROOT / src).exists(), f"Dockerfile copies {src}, which does not exist"
    assert os.access(DEPLOY / "entrypoint.sh", os.X_OK)
    assert "listener 1883" in (DEPLOY / "mosquitto.conf").read_text(encoding="utf-8")


def test_the_compose_site_file_is_valid() -> None:
    site = load_site(DEPLOY / "site.yaml")
    assert site.api.host == "0.0.0.0"
    assert site.worker.api_url == "http://api:8000"
    assert site.worker.outbox_file.is_absolute()


def test_systemd_units_run_existing_commands() -> None:
    parser = build_parser()
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        text = unit.read_text(encoding="utf-8")
        lines = re.findall(r"^Exec(?:Start|StartPre)=(.+)$", text, re.M)
        assert lines, unit
        for line in lines:
            argv = shlex.split(line.lstrip("-+!@"))
            assert argv[0].endswith("/sitewatch"), (unit.name, argv)
            parser.parse_args(argv[1:])

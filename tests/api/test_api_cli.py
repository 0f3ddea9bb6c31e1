"""``sitewatch users`` and ``sitewatch api``: users added from the shell sign in to a served API."""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sitewatch.cli import main


def _site(tmp: Path, port: int = 8000) -> Path:
    cfg = tmp / "site.yaml"
    cfg.write_text(
        "units:\n  district: 闽侯县\n  towns:\n    南屿镇: [旗山村]\n"
        "cameras:\n  - id: cam1\n    url: rtsp://127.0.0.1:8554/cam1\n"
        "    zones:\n      - id: yard\n        unit: 南屿镇/旗山村\n"
        "        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]\n"
        f"database:\n  url: sqlite:///{tmp / 'site.db'}\n"
        f"api:\n  host: 127.0.0.1\n  port: {port}\n",
        encoding="utf-8",
    )
    return cfg


def test_users_add_grant_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = _site(tmp_path)
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret-pass\n"))
    assert (
        main(
            [
                "users",
                "add",
                "zhang",
                "--role",
                "operator",
                "--unit",
                "南屿镇",
                "--config",
                str(cfg),
                "--password-stdin",
            ]
        )
        == 0
    )
    assert "password" not in capsys.readouterr().out
    assert (
        main(["users", "add", "w1", "--role", "worker", "--unit", "闽侯县", "--config", str(cfg)])
        == 0
    )
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("swk_") and len(key) > 40
    assert (
        main(["users", "add", "li", "--role", "leader", "--unit", "闽侯县", "--config", str(cfg)])
        == 0
    )
    assert "password (shown once): " in capsys.readouterr().out
    assert (
        main(
            [
                "users",
                "grant",
                "zhang",
                "--role",
                "inspector",
                "--unit",
                "南屿镇/旗山村",
                "--config",
                str(cfg),
            ]
        )
        == 0
    )
    assert main(["users", "list", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "operator@闽侯县/南屿镇" in out and "inspector@闽侯县/南屿镇/旗山村" in out
    assert (
        main(
            ["users", "add", "zhang", "--role", "leader", "--unit", "闽侯县", "--config", str(cfg)]
        )
        == 2
    )
    assert "exists already" in capsys.readouterr().err
    assert (
        main(["users", "add", "x", "--role", "leader", "--unit", "火星", "--config", str(cfg)]) == 2
    )
    assert "no unit" in capsys.readouterr().err
    db = (tmp_path / "site.db").read_bytes()
    assert b"s3cret-pass" not in db and key.encode() not in db  # only hashes are stored


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_api_command_serves_and_signs_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    cfg = _site(tmp_path, port)
    monkeypatch.setattr(sys, "stdin", io.StringIO("s3cret-pass\n"))
    assert (
        main(
            [
                "users",
                "add",
                "zhang",
                "--role",
                "operator",
                "--unit",
                "南屿镇",
                "--config",
                str(cfg),
                "--password-stdin",
            ]
        )
        == 0
    )
    exe = Path(sys.executable).with_name("sitewatch")
    proc = subprocess.Popen(
        [str(exe), "api", "--config", str(cfg)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "SITEWATCH_DEBUG": "1"},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("sitewatch api did not become ready")
        tok = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "zhang", "password": "s3cret-pass"}
        )
        assert tok.status_code == 200
        me = httpx.get(
            f"{base}/api/v1/me", headers={"Authorization": f"Bearer {tok.json()['access_token']}"}
        )
        assert me.json()["grants"] == [{"role": "operator", "unit": "闽侯县/南屿镇"}]
        wrong = httpx.post(
            f"{base}/api/v1/auth/token", data={"username": "zhang", "password": "nope"}
        )
        assert wrong.status_code == 401
        docs = httpx.get(f"{base}/openapi.json").json()
        take = docs["paths"]["/api/v1/cases/{case_id}/transitions"]["post"]["description"]
        assert "Roles: determiner, inspector, operator, rectifier, supervisor." in take
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=20)[0].decode()
    assert "serving on" in out and proc.returncode == 0, out

"""API settings: the site YAML, environment overrides, and the secret key file."""

from __future__ import annotations

import logging
import stat
import threading
from pathlib import Path

import pytest

from api.evidence_store import JPEG, MP4, PDF, PNG
from api.settings import SettingsError, secret_key
from sitewatch.apiconfig import load_settings
from sitewatch.config.loader import ConfigError

SITE = """\
cameras:
  - id: cam-1
    url: rtsp://127.0.0.1:8554/cam1
database:
  url: sqlite:///site.db
api:
  port: 8100
  token_ttl: 2h
storage:
  evidence_dir: ev
  max_upload: {image_mb: 5, video_mb: 100, pdf_mb: 7}
"""


def write_site(tmp_path: Path, text: str = SITE) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_settings_from_yaml_and_a_generated_key(tmp_path: Path) -> None:
    settings = load_settings(write_site(tmp_path), environ={})
    assert settings.database_url == f"sqlite:///{tmp_path / 'site.db'}"  # beside the config
    assert settings.public_url == "http://127.0.0.1:8100" and not settings.secure_cookies
    assert settings.token_ttl_s == 7200
    assert settings.evidence_dir == tmp_path / "ev"
    mib = 1 << 20
    assert dict(settings.upload_limits) == {
        JPEG: 5 * mib, PNG: 5 * mib, MP4: 100 * mib, PDF: 7 * mib
    }  # fmt: skip
    key_file = tmp_path / "state" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(settings.secret_key) >= 32
    assert settings.secret_key == key_file.read_bytes().strip()
    assert settings.secret_key.decode() not in repr(settings)
    again = load_settings(write_site(tmp_path), environ={})
    assert again.secret_key == settings.secret_key  # created once, then reused


def test_environment_overrides(tmp_path: Path) -> None:
    env = {
        "SITEWATCH_DATABASE_URL": "postgresql+psycopg://sw@db.local/sitewatch",
        "SITEWATCH_SECRET_KEY": "k" * 40,
        "SITEWATCH_PUBLIC_URL": "https://sitewatch.example.org/",
        "SITEWATCH_EVIDENCE_DIR": str(tmp_path / "elsewhere"),
    }
    settings = load_settings(write_site(tmp_path), environ=env)
    assert settings.database_url == env["SITEWATCH_DATABASE_URL"]
    assert settings.secret_key == b"k" * 40
    assert settings.public_url == "https://sitewatch.example.org" and settings.secure_cookies
    assert settings.evidence_dir == tmp_path / "elsewhere"
    assert not (tmp_path / "state" / "secret_key").exists()  # the env key wins, no file


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SITEWATCH_SECRET_KEY": "short"}, "at least 32"),
        ({"SITEWATCH_DATABASE_URL": "mysql://x/y"}, "SITEWATCH_DATABASE_URL"),
        ({"SITEWATCH_PUBLIC_URL": "sitewatch.example.org"}, "SITEWATCH_PUBLIC_URL"),
    ],
)
def test_bad_environment_is_named(tmp_path: Path, env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(write_site(tmp_path), environ=env)


def test_yaml_key_file_and_bad_values(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = tmp_path / "keys" / "api.key"
    key.parent.mkdir()
    key.write_text("x" * 48 + "\n")
    key.chmod(0o644)
    text = SITE.replace("  port: 8100\n", "  port: 8100\n  secret_key_file: keys/api.key\n")
    with caplog.at_level(logging.WARNING, logger="api.settings"):
        assert load_settings(write_site(tmp_path, text), environ={}).secret_key == b"x" * 48
    assert "readable by others" in caplog.text
    key.write_text("too short")
    with pytest.raises(SettingsError, match="at least 32"):
        load_settings(write_site(tmp_path, text), environ={})
    for bad in ("  token_ttl: 1s\n", "  public_url: ftp://x\n"):
        with pytest.raises(ConfigError):
            load_settings(write_site(tmp_path, SITE.replace("  token_ttl: 2h\n", bad)), {})
    with pytest.raises(ConfigError, match="video_mb"):
        load_settings(write_site(tmp_path, SITE.replace("video_mb: 100", "video_mb: 0")), {})


def test_concurrent_first_start_agrees_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "state" / "secret_key"
    keys: list[bytes] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        keys.append(secret_key(path, {}))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 8 and len(set(keys)) == 1
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temp files left

"""The configured database: PostgreSQL on 127.0.0.1:5432 when reachable, else SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from sitewatch.config import load_site
from sitewatch.db import check_url, make_engine, sqlite_beside


def test_engine_round_trips_a_row(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        meta = sa.MetaData()
        table = sa.Table(
            "probe",
            meta,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("unit", sa.String(64)),
        )
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(table.insert().values(unit="南屿镇/旗山村"))
        with engine.connect() as conn:
            assert conn.execute(sa.select(table.c.unit)).scalar_one() == "南屿镇/旗山村"
    finally:
        engine.dispose()


def test_sqlite_enforces_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fk.db'}")
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar_one() == 1
    engine.dispose()


@pytest.mark.parametrize(
    "url", ["oracle://x/y", "not a url", "mysql://root@localhost/db", "sqlite:/tmp/x.db"]
)
def test_unsupported_urls_are_rejected(url: str) -> None:
    with pytest.raises(ValueError):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///sitewatch.db", "sqlite:////etc/sw/sitewatch.db"),
        (
            "sqlite+pysqlite:///data/x.db?timeout=5",
            "sqlite+pysqlite:////etc/sw/data/x.db?timeout=5",
        ),
        ("sqlite:////var/lib/sw.db", "sqlite:////var/lib/sw.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite://", "sqlite://"),
        ("sqlite:///file:x.db?mode=ro&uri=true", "sqlite:///file:x.db?mode=ro&uri=true"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
    ],
)
def test_a_relative_sqlite_file_is_taken_beside_the_config(url: str, expected: str) -> None:
    assert sqlite_beside(url, Path("/etc/sw")) == expected


def test_the_site_database_lies_beside_its_config_whatever_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    config = folder / "site.yaml"
    config.write_text(
        "cameras:\n  - id: cam-1\n    url: rtsp://127.0.0.1:8554/cam1\n"
        "database:\n  url: sqlite:///data/site.db\n",
        encoding="utf-8",
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    site = load_site(config)
    assert site.database.url == f"sqlite:///{folder / 'data' / 'site.db'}"

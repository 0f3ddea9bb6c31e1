"""The configured database: PostgreSQL on 127.0.0.1:5432 when reachable, else SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from sitewatch.db import check_url, make_engine


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

"""``alembic upgrade head`` on an empty database gives exactly the tables of the models,
on SQLite and PostgreSQL: a model change without its migration fails here."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from models.migrate import alembic_config, current, head, upgrade
from models.tables import Base
from sitewatch.cli import main
from sitewatch.db import make_engine


def test_upgrade_from_empty_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert current(engine) is None
        assert upgrade(engine) == head()
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
            )
        assert diff == [], f"models and migrations differ: {diff}"
        assert upgrade(engine) == head()  # idempotent
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_every_table_and_upgrade_brings_them_back(db_url: str) -> None:
    import sqlalchemy as sa
    from alembic import command

    engine = make_engine(db_url)
    try:
        upgrade(engine)
        command.downgrade(alembic_config(engine), "base")
        assert current(engine) is None
        assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
        assert upgrade(engine) == head()
        assert set(Base.metadata.tables) <= set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_db_upgrade_command_syncs_the_site(tmp_path: Path, capsys: object) -> None:
    import sqlalchemy as sa

    db = tmp_path / "site.db"
    cfg = tmp_path / "site.yaml"
    cfg.write_text(
        "units:\n  district: 闽侯县\n  towns:\n    南屿镇: [旗山村]\n"
        "cameras:\n  - id: cam1\n    url: rtsp://127.0.0.1:8554/cam1\n"
        "    zones:\n      - id: yard\n        unit: 南屿镇/旗山村\n"
        "        polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]\n"
        f"database:\n  url: sqlite:///{db}\n",
        encoding="utf-8",
    )
    assert main(["db", "upgrade", "--config", str(cfg)]) == 0
    assert main(["db", "upgrade", "--config", str(cfg)]) == 0
    engine = make_engine(f"sqlite:///{db}")
    with engine.connect() as c:
        paths = sorted(c.execute(sa.text("SELECT path FROM units")).scalars())
        zone = c.execute(
            sa.text("SELECT u.path FROM zones z JOIN units u ON u.id = z.unit_id")
        ).scalar()
        syncs = c.execute(sa.text("SELECT count(*) FROM audit_log")).scalar()
    engine.dispose()
    assert paths == ["闽侯县", "闽侯县/南屿镇", "闽侯县/南屿镇/旗山村"]
    assert zone == "闽侯县/南屿镇/旗山村"
    assert syncs == 1  # the second upgrade found nothing to change


def test_db_upgrade_reports_an_unreachable_database(tmp_path: Path) -> None:
    cfg = tmp_path / "site.yaml"
    cfg.write_text(
        "cameras:\n  - id: cam1\n    url: rtsp://127.0.0.1:8554/cam1\n"
        "database:\n  url: postgresql+psycopg://nobody@127.0.0.1:1/none\n",
        encoding="utf-8",
    )
    assert main(["db", "upgrade", "--config", str(cfg)]) == 1

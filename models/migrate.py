"""Alembic, driven from code: ``upgrade(engine)`` brings any database to the newest schema.

``sitewatch db upgrade``, the API and ``sitewatch run`` call it on start. The migration
scripts live in ``models/migrations/versions``; a test upgrades empty SQLite and
PostgreSQL databases and compares them with the tables, so a model change without its
migration fails.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade to ``revision``; return the revision the database is at afterwards."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)
    return current(engine)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    return ScriptDirectory.from_config(
        alembic_config(create_engine("sqlite://"))
    ).get_current_head()

"""The district of tests/models (SQLite and PostgreSQL) for the notification rules."""

from tests.models.conftest import db_url, engine, world

__all__ = ["db_url", "engine", "world"]

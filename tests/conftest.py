"""Fixtures shared by every test package: third-party data and the database to use."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (third-party models, videos, images), or skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"third-party test data not found at {SHARED_DATA} (see DESIGN.md)")
    return SHARED_DATA


def _postgres_reachable(host: str = "127.0.0.1", port: int = 5432) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture()
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a throwaway schema-free PostgreSQL database on
    127.0.0.1:5432 when reachable (``SITEWATCH_TEST_DB=sqlite`` forces SQLite), else SQLite."""
    if os.environ.get("SITEWATCH_TEST_DB") == "sqlite" or not _postgres_reachable():
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    import sqlalchemy as sa

    name = f"sitewatch_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(  # pre-ping: a test may restart PostgreSQL meanwhile
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
        isolation_level="AUTOCOMMIT",
        pool_pre_ping=True,
    )
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

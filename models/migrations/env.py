"""Alembic environment: the engine comes from the caller (models.migrate), never from an ini."""

from __future__ import annotations

from alembic import context

from models.tables import Base

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
        compare_type=True,
    )
    context.run_migrations()

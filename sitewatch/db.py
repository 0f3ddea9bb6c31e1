"""The database URL check and engine factory live with the data model (models.engine);
re-exported here for the shell's commands."""

from models.engine import SUPPORTED_BACKENDS, check_url, make_engine, sqlite_beside

__all__ = ["SUPPORTED_BACKENDS", "check_url", "make_engine", "sqlite_beside"]

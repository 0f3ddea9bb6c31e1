"""The PostgreSQL pool without pre-ping: a pooled connection that the server closed is
replaced at checkout (no failed request), and a healthy one is reused without a ping."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from models.engine import make_engine


def test_a_terminated_pooled_connection_is_replaced_and_a_live_one_reused(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL test")
    engine = make_engine(database_url)
    pid = sa.text("SELECT pg_backend_pid()")
    try:
        with engine.connect() as c:
            first = c.execute(pid).scalar_one()
        with engine.connect() as c:
            assert c.execute(pid).scalar_one() == first  # reused: the pool did not reconnect
        killer = sa.create_engine(database_url, isolation_level="AUTOCOMMIT")
        with killer.connect() as k:
            assert k.execute(sa.text(f"SELECT pg_terminate_backend({first})")).scalar_one()
        killer.dispose()
        time.sleep(0.2)  # the server's FATAL message and FIN reach the pooled socket
        with engine.connect() as c:  # would raise OperationalError without the check
            second = c.execute(pid).scalar_one()
        assert second != first
    finally:
        engine.dispose()

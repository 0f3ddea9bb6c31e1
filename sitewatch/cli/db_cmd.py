"""``sitewatch db upgrade`` and ``sitewatch audit verify``: the case database's upkeep."""

from __future__ import annotations

import argparse
import sys

from sitewatch.cli.common import load_site_or_fail


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="upgrade the case database to the newest schema and sync it")
    inner = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = inner.add_parser(
        "upgrade", help="apply migrations (Alembic), then sync units, cameras and zones"
    )
    up.add_argument("--config", required=True, metavar="FILE", help="site YAML")
    up.set_defaults(func=run_upgrade)
    audit = sub.add_parser("audit", help="verify the tamper-evident audit log")
    ainner = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    ver = ainner.add_parser(
        "verify", help="check the whole hash chain; exit 1 naming the first broken entry"
    )
    ver.add_argument("--config", required=True, metavar="FILE", help="site YAML")
    ver.set_defaults(func=run_verify)


def run_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from models.migrate import current
    from sitewatch.casedb import open_database

    site = load_site_or_fail(args.config)
    try:
        engine = open_database(site)
    except SQLAlchemyError as exc:
        print(
            f"sitewatch db: cannot upgrade {site.database.url}: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}",
            file=sys.stderr,
        )
        return 1
    print(f"database at revision {current(engine)} ({_safe_url(site.database.url)})")
    engine.dispose()
    return 0


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_verify(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError
    from sqlalchemy.orm import Session

    from models.audit import verify
    from sitewatch.db import make_engine

    site = load_site_or_fail(args.config)
    engine = make_engine(site.database.url)
    try:
        with Session(engine) as session:
            result = verify(session)
    except SQLAlchemyError as exc:
        print(
            f"sitewatch audit: cannot read the audit log: {str(exc).splitlines()[0]}",
            file=sys.stderr,
        )
        return 1
    finally:
        engine.dispose()
    if not result.ok:
        print(
            f"sitewatch audit: entry {result.broken_seq} is broken: {result.reason} "
            f"({result.verified} entries before it verified)",
            file=sys.stderr,
        )
        return 1
    print(f"audit log OK: {result.verified} entries verified")
    return 0

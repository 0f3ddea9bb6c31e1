"""``sitewatch api`` serves the API and pages; ``sitewatch users`` manages who may sign in."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
from typing import TYPE_CHECKING

from sitewatch.cli.common import CommandError, load_site_or_fail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from models.tables import User

ROLE_NAMES = (
    "inspector",
    "operator",
    "determiner",
    "rectifier",
    "supervisor",
    "accountability",
    "leader",
    "admin",
    "worker",
)


def register(sub: argparse._SubParsersAction) -> None:
    api = sub.add_parser("api", help="serve the API and web pages (upgrades the database first)")
    api.add_argument("--config", required=True, metavar="FILE", help="site YAML")
    api.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="uvicorn worker processes (default: %(default)s)",
    )
    api.set_defaults(func=run_api)
    users = sub.add_parser("users", help="add users, grant roles, list users")
    inner = users.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = inner.add_parser("add", help="add a user with a role in a unit; workers get an API key")
    add.add_argument("name", metavar="NAME", help="sign-in name (letters, digits, . _ @ -)")
    _role_unit(add)
    add.add_argument(
        "--display-name", default="", metavar="TEXT", help="name shown (default: NAME)"
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (default: generate one and print it once)",
    )
    add.set_defaults(func=run_add)
    grant = inner.add_parser("grant", help="give an existing user another role in a unit")
    grant.add_argument("name", metavar="NAME", help="sign-in name")
    _role_unit(grant)
    grant.set_defaults(func=run_grant)
    mail = inner.add_parser("email", help="set or show where a user's e-mail notifications go")
    mail.add_argument("name", metavar="NAME", help="sign-in name")
    mail.add_argument("--config", required=True, metavar="FILE", help="site YAML")
    which = mail.add_mutually_exclusive_group()
    which.add_argument("--address", metavar="ADDR", help="e-mail address (turns e-mail on)")
    which.add_argument("--off", action="store_true", help="stop e-mail (keeps the address)")
    mail.set_defaults(func=run_email)
    ls = inner.add_parser("list", help="every user with their roles")
    ls.add_argument("--config", required=True, metavar="FILE", help="site YAML")
    ls.set_defaults(func=run_list)


def _role_unit(p: argparse.ArgumentParser) -> None:
    p.add_argument("--role", required=True, choices=ROLE_NAMES, help="the role")
    p.add_argument(
        "--unit",
        required=True,
        metavar="UNIT",
        help="unit path, e.g. 南屿镇/旗山村, or the district's name for all of it",
    )
    p.add_argument("--config", required=True, metavar="FILE", help="site YAML")


def _services(config: str):  # type: ignore[no-untyped-def]
    from api.app import build_services
    from sitewatch.apiconfig import settings_from_site

    return build_services(settings_from_site(load_site_or_fail(config)))


def run_api(args: argparse.Namespace) -> int:
    import uvicorn

    from sitewatch.asgi import event_loop, http_protocol

    site = load_site_or_fail(args.config)
    if not 1 <= args.workers <= 64:
        raise CommandError(f"--workers must be in [1, 64], got {args.workers}")
    from api.logs import configure
    from sitewatch.casedb import open_database

    configure()
    open_database(site).dispose()  # migrate once, before the workers start
    print(f"sitewatch api: serving on http://{site.api.host}:{site.api.port}", flush=True)
    import os

    os.environ["SITEWATCH_CONFIG"] = str(args.config)
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from api.metrics import clear_multiprocess_dir

        metrics_dir = site.storage.reference_dir.parent / "prometheus"
        metrics_dir.mkdir(parents=True, exist_ok=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)  # one /metrics for all workers
        clear_multiprocess_dir()
    uvicorn.run(
        "sitewatch.asgi:app",
        host=site.api.host,
        port=site.api.port,
        workers=args.workers,
        factory=True,
        log_level="info",
        access_log=False,  # api.logs writes one JSON access line per request already
        http=http_protocol(),  # httptools (else h11), with TCP_NODELAY: see there
        loop=event_loop(),
    )
    return 0


def _refusal(exc: Exception) -> CommandError:
    return CommandError(getattr(exc, "reason", str(exc)))


def _user(session: Session, name: str) -> User:
    """The user called ``name``, or CommandError naming the command that lists users."""
    import sqlalchemy as sa

    from models.tables import User

    user = session.scalar(sa.select(User).where(User.name == name))
    if user is None:
        raise CommandError(f"no user {name!r} (sitewatch users list names them)")
    return user


def run_add(args: argparse.Namespace) -> int:
    from api.accounts import add_user
    from models.enums import Role
    from models.workflow import Refusal

    services = _services(args.config)
    password = None
    if args.password_stdin:
        password = (
            sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else getpass.getpass()
        )
    try:
        with services.session() as s, s.begin():
            new = add_user(
                s,
                name=args.name,
                role=Role(args.role),
                unit=args.unit,
                now=dt.datetime.now(dt.UTC),
                passwords=services.passwords,
                api_keys=services.api_keys,
                password=password,
                display_name=args.display_name,
                actor="cli",
            )
    except Refusal as exc:
        raise _refusal(exc) from None
    finally:
        services.engine.dispose()
    print(f"added {new.name} ({args.role} in {args.unit})")
    if args.role == "worker":
        print("API key (shown once; the server keeps only its hash):")
        print(new.secret)
    elif new.generated:
        print(f"password (shown once): {new.secret}")
    return 0


def run_grant(args: argparse.Namespace) -> int:

    from api.accounts import add_grant
    from models.enums import Role
    from models.workflow import Refusal

    services = _services(args.config)
    try:
        with services.session() as s, s.begin():
            user = _user(s, args.name)
            added = add_grant(s, user, Role(args.role), args.unit)
    except Refusal as exc:
        raise _refusal(exc) from None
    finally:
        services.engine.dispose()
    print(f"{args.name}: {args.role} in {args.unit}" + ("" if added else " (already held)"))
    return 0


def run_list(args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from models.tables import User

    services = _services(args.config)
    try:
        with services.session() as s:
            for u in s.scalars(sa.select(User).order_by(User.name)):
                grants = ", ".join(f"{g.role}@{g.unit.path}" for g in u.grants) or "no roles"
                state = "" if u.active else " (disabled)"
                print(f"{u.name}\t{u.display_name}\t{grants}{state}")
    finally:
        services.engine.dispose()
    return 0


def run_email(args: argparse.Namespace) -> int:
    """``sitewatch users email NAME [--address ADDR | --off]``: notify_prefs of one user."""
    import re

    from models import notify

    if args.address is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", args.address):
        raise CommandError(f"--address must be an e-mail address, got {args.address!r}")
    services = _services(args.config)
    try:
        with services.session() as s, s.begin():
            user = _user(s, args.name)
            prefs = notify.prefs_of(s, user.id)
            if args.address is not None:
                notify.set_email(s, user.id, args.address, True)
            elif args.off:
                notify.set_email(s, user.id, prefs["email"], False)
            prefs = notify.prefs_of(s, user.id)
    finally:
        services.engine.dispose()
    state = "on" if prefs["email_enabled"] else "off"
    print(f"{args.name}: e-mail {state} ({prefs['email'] or 'no address'})")
    return 0

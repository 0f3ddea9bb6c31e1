"""``sitewatch run``: the single-machine default — API, pages, worker and database in one
process. It wires the others together and owns no algorithm.

The database is upgraded and synced; when nobody holds the admin role a first ``admin`` is
created and its password printed once; the embedded worker gets a fresh API key at every
start (only its hash is stored) and posts to the API served here, over HTTP like any
worker, so the outbox, idempotency and evidence storage are the same as in production.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from sitewatch.config.site import SiteConfig

WORKER_USER = "embedded-worker"


@dataclass(frozen=True)
class Started:
    url: str
    admin_password: str | None  # set when this start created the first admin


def _accounts(services: Any, district: str) -> tuple[str | None, str]:
    """(the first admin's new password or None, the embedded worker's new API key)."""
    from api.accounts import add_user
    from models.enums import Role
    from models.tables import Grant, User

    now = dt.datetime.now(dt.UTC)
    admin_pw = None
    with services.session() as s, s.begin():
        has_admin = s.scalar(
            sa.select(sa.func.count()).select_from(Grant).where(Grant.role == "admin")
        )
        if not has_admin:
            name = (
                "admin"
                if s.scalar(sa.select(User.id).where(User.name == "admin")) is None
                else "admin1"
            )
            admin_pw = add_user(
                s,
                name=name,
                role=Role.ADMIN,
                unit=district,
                now=now,
                passwords=services.passwords,
                api_keys=services.api_keys,
                actor="sitewatch run",
            ).secret
        worker = s.scalar(sa.select(User).where(User.name == WORKER_USER))
        if worker is None:
            key = add_user(
                s,
                name=WORKER_USER,
                role=Role.WORKER,
                unit=district,
                now=now,
                passwords=services.passwords,
                api_keys=services.api_keys,
                actor="sitewatch run",
            ).secret
        else:
            issued = services.api_keys.generate()
            worker.api_key_prefix, worker.api_key_hash = issued.prefix, issued.digest
            key = issued.key
    return admin_pw, key


class Embedded:
    """Start with :meth:`start`, stop with :meth:`stop` (or use :meth:`run`)."""

    def __init__(self, site: SiteConfig, *, speed: float = 1.0) -> None:
        self.site = site
        self.speed = speed
        self.server: Any = None
        self.worker: Any = None
        self.services: Any = None
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        return f"http://{self.site.api.host}:{self.site.api.port}"

    def start(self, timeout: float = 30.0) -> Started:
        import uvicorn

        from api.app import create_app
        from sitewatch.apiconfig import settings_from_site
        from sitewatch.casedb import DEFAULT_DISTRICT
        from sitewatch.worker import build_worker

        app = create_app(settings_from_site(self.site))
        self.services = app.state.services
        district = self.site.units.district if self.site.units else DEFAULT_DISTRICT
        admin_pw, key = _accounts(self.services, district)
        config = uvicorn.Config(
            app,
            host=self.site.api.host,
            port=self.site.api.port,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self._spawn(self.server.run, "sitewatch-api")
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._threads[0].is_alive():
                raise OSError(f"the API did not start on {self.url} (is the port in use?)")
            time.sleep(0.05)
        self.worker = build_worker(self.site, api_url=self.url, key=key, speed=self.speed)
        self.worker.start()
        return Started(self.url, admin_pw)

    def _spawn(self, target: Any, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def first_case(self) -> int | None:
        """The id of the oldest case, if one is open (for the demo's exit-on-case mode)."""
        from models.tables import Case

        with self.services.session() as s:
            return s.scalar(sa.select(Case.id).order_by(Case.id).limit(1))

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.server is not None:
            self.server.should_exit = True
        for t in self._threads:
            t.join(15)

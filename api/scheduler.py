"""The overdue scanner and the check-in cut-off, run inside every API process on a timer.
Several processes on one PostgreSQL may run them at once: models/ makes each record once.
Every ``SWEEP_EVERY`` the timer also deletes evidence files nothing refers to
(``api.evidence_sweep``)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import sqlalchemy as sa

from api.deps import Services
from api.evidence_sweep import MIN_AGE_S, Swept, sweep
from api.notify.channels import build_senders
from api.notify.sender import deliver_due
from models import notify, scheduler
from models.tables import Case, Evidence, StageRun

log = logging.getLogger("sitewatch.scheduler")

SWEEP_EVERY = 6 * 3600.0  # s between two sweeps of unreferenced evidence files
FIRST_SWEEP = 600.0  # s after the start (not while a restarted service is busy)


def scan_once(services: Services) -> tuple[int, int]:
    now = services.clock()
    with services.session() as s, s.begin():
        overdue = scheduler.scan_overdue(s, now=now)
    with services.session() as s, s.begin():
        missed = scheduler.scan_checkins(s, services.policy, now=now)
    with services.session() as s, s.begin():  # inbox and channel messages of the events
        notify.scan(s, notify_policy(services), now=now)
    deliver(services, now)
    if overdue or missed:
        log.info("scheduler: %d overdue stages, %d missed check-ins recorded", overdue, missed)
    _case_gauges(services, now)
    return overdue, missed


def sweep_evidence(services: Services, *, min_age: float = MIN_AGE_S) -> Swept:
    """Delete evidence files that no evidence row refers to, once ``min_age`` seconds old
    (by the files' own times, not the service clock): the uploads of requests refused
    after storing them, and uploads cut off by a crash."""

    def referenced(digests: list[str]) -> set[str]:
        with services.session() as s:
            return set(s.scalars(sa.select(Evidence.sha256).where(Evidence.sha256.in_(digests))))

    return sweep(services.store, referenced, min_age=min_age)


def notify_policy(services: Services) -> notify.NotifyPolicy:
    """The rules' settings: ``notify:`` (channels, reminders, offline_after) of the site."""
    return services.settings.notify.policy(
        services.settings.public_url, services.policy.calendar.tz
    )


def deliver(services: Services, now: dt.datetime) -> tuple[int, int]:
    """Send the channel messages that are due (robots, webhooks, e-mail)."""
    ns = services.settings.notify
    if not ns.channels:
        return 0, 0
    senders = build_senders(ns.channels, services.clock)
    tz = services.policy.calendar.tz
    sent, failed = deliver_due(services.engine, senders, now=now, digests=ns.digests,
                               hold=lambda row, when: ns.hold(row, when, tz))  # fmt: skip
    if failed:
        log.warning("notify: %d messages sent, %d failed (retried later)", sent, failed)
    return sent, failed


def _case_gauges(services: Services, now: dt.datetime) -> None:
    """Cases by stage and open overdue stages, for /metrics (same figure in every process)."""
    with services.session() as s:
        by_stage = dict(
            s.execute(sa.select(Case.stage, sa.func.count()).group_by(Case.stage)).all()
        )
        overdue = s.scalar(
            sa.select(sa.func.count()).where(
                StageRun.ended_at.is_(None), StageRun.deadline_at < now
            )
        )
    services.metrics.set_cases({str(k): int(v) for k, v in by_stage.items()}, int(overdue or 0))


class Scheduler:
    """Runs :func:`scan_once` every ``interval`` seconds until stopped; errors are logged,
    never fatal (a database restart is waited out)."""

    def __init__(self, services: Services, interval: float = 60.0) -> None:
        if interval <= 0:
            raise ValueError(f"Scheduler: interval must be > 0 s, got {interval}")
        self.services = services
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sitewatch-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        next_sweep = time.monotonic() + FIRST_SWEEP
        while not self._stop.is_set():
            try:
                scan_once(self.services)
                self.runs += 1
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + SWEEP_EVERY
                    sweep_evidence(self.services)
            except Exception:
                log.exception("scheduler run failed; retrying in %.0f s", self.interval)
            self._stop.wait(self.interval)

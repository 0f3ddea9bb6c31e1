"""Who may call which route: the one table the routers are registered from and the tests
read. ``roles=None`` is a public route; every other route needs one of its roles, held
for some unit. Scoped routes (``scope``) then check the unit of the record: outside the
caller's subtrees a read is a 404 and an action on a record they can see is a 403."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter

from models.enums import Role

R = Role
READERS = frozenset({R.INSPECTOR, R.OPERATOR, R.DETERMINER, R.RECTIFIER, R.SUPERVISOR,
                     R.ACCOUNTABILITY, R.LEADER})  # fmt: skip
ACTORS = frozenset({R.INSPECTOR, R.OPERATOR, R.DETERMINER, R.RECTIFIER, R.SUPERVISOR})
EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class RouteRule:
    method: str
    path: str
    roles: frozenset[Role] | None
    summary: str
    scope: str = ""  # "case", "camera", "unit", "accountability": checked against grants
    action: bool = False  # changes something (a 403 when the record is visible)

    def description(self) -> str:
        if self.roles is None:
            who = "Public."
        else:
            names = ", ".join(sorted(r.value for r in self.roles))
            who = f"Roles: {names}."
        if self.scope:
            who += f" Limited to the caller's units (by the {self.scope}'s unit)."
        return f"{self.summary}\n\n{who}"


ROUTES: dict[str, RouteRule] = {
    "auth.token": RouteRule("POST", "/api/v1/auth/token", None,
                            "Sign in (OAuth2 password form) and get a bearer token."),
    "auth.session": RouteRule("POST", "/api/v1/auth/session", None,
                              "Sign in for the web pages: an HttpOnly cookie plus a CSRF token."),
    "auth.logout": RouteRule("POST", "/api/v1/auth/logout", None,
                             "End the cookie session."),
    "me": RouteRule("GET", "/api/v1/me", EVERYONE, "The signed-in user and their grants."),
    "me.notify": RouteRule("PUT", "/api/v1/me/notify", EVERYONE,
                           "Set the caller's e-mail address for notifications, e-mail on or off."),
    "users.list": RouteRule("GET", "/api/v1/users", frozenset({R.ADMIN}),
                            "Every user with their grants."),
    "detections.ingest": RouteRule("POST", "/api/v1/detections", frozenset({R.WORKER}),
                                   "Deliver one camera detection with its evidence (idempotent).",
                                   scope="camera", action=True),
    "cameras.heartbeat": RouteRule("POST", "/api/v1/cameras/{camera_id}/heartbeat",
                                   frozenset({R.WORKER}), "A worker's camera state and counters.",
                                   scope="camera", action=True),
    "cameras.list": RouteRule("GET", "/api/v1/cameras", READERS | {R.ADMIN},
                              "The camera wall: state, last frame, detections this week.",
                              scope="camera"),
    "cases.list": RouteRule("GET", "/api/v1/cases", READERS,
                            "Cases with filters and keyset pagination.", scope="case"),
    "cases.get": RouteRule("GET", "/api/v1/cases/{case_id}", READERS,
                           "One case: timeline, evidence, deadline, the caller's transitions.",
                           scope="case"),
    "cases.transitions": RouteRule("GET", "/api/v1/cases/{case_id}/transitions", READERS,
                                   "The transitions the caller may take now.", scope="case"),
    "cases.transition": RouteRule("POST", "/api/v1/cases/{case_id}/transitions", ACTORS,
                                  "Take one transition (JSON, or multipart with files).",
                                  scope="case", action=True),
    "cases.dossier": RouteRule("GET", "/api/v1/cases/{case_id}/dossier.pdf", READERS,
                               "The case dossier as PDF, for accountability meetings.",
                               scope="case"),
    "evidence.get": RouteRule("GET", "/api/v1/evidence/{evidence_id}", READERS,
                              "Download one evidence file (HTTP Range supported).", scope="case"),
    "reports.create": RouteRule("POST", "/api/v1/reports", frozenset({R.INSPECTOR}),
                                "A manual report: photos, position, description, unit.",
                                scope="unit", action=True),
    "checkins.create": RouteRule("POST", "/api/v1/checkins", frozenset({R.INSPECTOR}),
                                 "Today's check-in of a village: its cases or a zero report.",
                                 scope="unit", action=True),
    "checkins.list": RouteRule("GET", "/api/v1/checkins", READERS,
                               "A day's check-ins per village: done, zero report, missing.",
                               scope="unit"),
    "accountability.list": RouteRule("GET", "/api/v1/accountability",
                                     frozenset({R.ACCOUNTABILITY, R.LEADER}),
                                     "Accountability records.", scope="accountability"),
    "accountability.resolve": RouteRule("POST", "/api/v1/accountability/{record_id}/resolution",
                                        frozenset({R.ACCOUNTABILITY}),
                                        "Resolve a record: interviewed, sanctioned or waived.",
                                        scope="accountability", action=True),
    "stats.get": RouteRule("GET", "/api/v1/stats", READERS,
                           "The leaders' numbers for a period and a unit.", scope="unit"),
    "exports.cases": RouteRule("GET", "/api/v1/exports/cases.{fmt}", READERS,
                               "The case list (same filters) as csv or xlsx.", scope="case"),
    "exports.stats": RouteRule("GET", "/api/v1/exports/stats.{fmt}", READERS,
                               "The statistics as csv or xlsx.", scope="unit"),
    "inbox.list": RouteRule("GET", "/api/v1/inbox", EVERYONE,
                            "The caller's newest inbox messages and their unread count."),
    "inbox.read": RouteRule("POST", "/api/v1/inbox/{notification_id}/read", EVERYONE,
                            "Mark one of the caller's inbox messages read."),
    "notifications.failed": RouteRule("GET", "/api/v1/notifications/failed",
                                      frozenset({R.ADMIN}),
                                      "Channel messages that kept failing, with the reason."),
    # the web pages (api/pages/): a caller without the roles is sent to /login or gets a 403 page
    "pages.home": RouteRule("GET", "/", None, "The signed-in user's first page, else /login."),
    "pages.login": RouteRule("GET", "/login", None, "The login page."),
    "pages.lang": RouteRule("GET", "/lang/{lang}", None, "Switch the pages' language (a cookie)."),
    "pages.review": RouteRule("GET", "/review", frozenset({R.OPERATOR}),
                              "Review queue: the oldest unreviewed camera detection first."),
    "pages.cases": RouteRule("GET", "/cases", READERS, "Case board and list.", scope="case"),
    "pages.case": RouteRule("GET", "/cases/{case_id}", READERS,
                            "One case with the caller's actions.", scope="case"),
    "pages.report": RouteRule("GET", "/report", frozenset({R.INSPECTOR}),
                              "Field report from a phone and the daily check-in.", scope="unit"),
    "pages.checkins": RouteRule("GET", "/checkins", READERS, "The day's check-ins per village.",
                                scope="unit"),
    "pages.accountability": RouteRule("GET", "/accountability",
                                      frozenset({R.ACCOUNTABILITY, R.LEADER}),
                                      "Accountability records and their resolution.",
                                      scope="accountability"),
    "pages.stats": RouteRule("GET", "/stats", READERS, "Statistics with charts and exports.",
                             scope="unit"),
    "pages.cameras": RouteRule("GET", "/cameras", READERS | {R.ADMIN}, "The camera wall.",
                               scope="camera"),
    "pages.inbox": RouteRule("GET", "/inbox", EVERYONE,
                             "The caller's inbox: newest messages first, mark them read."),
    "pages.failed": RouteRule("GET", "/admin/notifications", frozenset({R.ADMIN}),
                              "Channel messages that kept failing, with the reason."),
    "ops.healthz": RouteRule("GET", "/healthz", None, "The process is up."),
    "ops.readyz": RouteRule("GET", "/readyz", None, "The database is reachable."),
    "ops.metrics": RouteRule("GET", "/metrics", None, "Prometheus metrics."),
}  # fmt: skip


def endpoint(router: APIRouter, name: str, **kw: Any) -> Callable[[Any], Any]:
    """Register a handler at the method and path the table gives ``name``."""
    r = ROUTES[name]
    return router.api_route(r.path, methods=[r.method], name=name, summary=r.summary,
                            description=r.description(), **kw)  # fmt: skip

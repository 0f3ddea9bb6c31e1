"""The five-role workflow as plain rules: which transitions exist, who may take them, what
they need. No database, no HTTP: the services apply these rules and the API and pages ask
:func:`allowed` which buttons to show instead of deciding it themselves.

report ──confirm──► determine ──rule_illegal──► rectify ──rectified──► verify ──verified──► closed
  │                    │                          ▲                       │
  └─dismiss─► closed   └─rule_legal─► closed      └────────reject─────────┘
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from models.enums import Outcome, Role, Source, Stage

PHOTO_TYPES = frozenset({"image/jpeg", "image/png"})
DOCUMENT_TYPES = PHOTO_TYPES | {"application/pdf"}
MAX_AREA_M2 = 10_000_000.0  # 10 km²: anything larger is a typing mistake
MAX_TEXT = 4000


@dataclass(frozen=True)
class Transition:
    name: str
    source: Stage
    target: Stage
    roles: frozenset[Role]
    outcome: Outcome | None = None
    needs_reason: bool = False  # a short reason (dismiss, reject)
    needs_comment: bool = False  # a written justification (the proof of rule_legal)
    needs_files: frozenset[str] = frozenset()  # media types of which ≥ 1 file is required
    needs_area: bool = False
    restarts_deadline: bool = False  # reject: the rectify deadline starts again
    label: str = ""  # human name (zh-CN)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "confirm",
            Stage.REPORT,
            Stage.DETERMINE,
            frozenset({Role.OPERATOR, Role.INSPECTOR}),
            label="确认疑似违建",
        ),
        Transition(
            "dismiss",
            Stage.REPORT,
            Stage.CLOSED,
            frozenset({Role.OPERATOR}),
            outcome=Outcome.DISMISSED,
            needs_reason=True,
            label="误报排除",
        ),
        Transition(
            "rule_illegal",
            Stage.DETERMINE,
            Stage.RECTIFY,
            frozenset({Role.DETERMINER}),
            label="认定违建",
        ),
        Transition(
            "rule_legal",
            Stage.DETERMINE,
            Stage.CLOSED,
            frozenset({Role.DETERMINER}),
            outcome=Outcome.NOT_ILLEGAL,
            needs_comment=True,
            needs_files=DOCUMENT_TYPES,
            label="认定合法",
        ),
        Transition(
            "rectified",
            Stage.RECTIFY,
            Stage.VERIFY,
            frozenset({Role.RECTIFIER}),
            needs_files=PHOTO_TYPES,
            needs_area=True,
            label="拆除完成",
        ),
        Transition(
            "verified",
            Stage.VERIFY,
            Stage.CLOSED,
            frozenset({Role.SUPERVISOR}),
            outcome=Outcome.DEMOLISHED,
            label="验收通过",
        ),
        Transition(
            "reject",
            Stage.VERIFY,
            Stage.RECTIFY,
            frozenset({Role.SUPERVISOR}),
            needs_reason=True,
            restarts_deadline=True,
            label="退回整改",
        ),
    )
}


class Refusal(Exception):
    """A transition that may not be taken; ``code`` says which rule, ``reason`` says why."""

    CODES = (
        "unknown_transition",
        "wrong_stage",
        "not_permitted",
        "foreign_unit",
        "missing_field",
        "invalid_field",
        "conflict",
        "not_found",
    )

    def __init__(self, code: str, reason: str) -> None:
        if code not in self.CODES:
            raise ValueError(f"Refusal: unknown code {code!r}")
        super().__init__(reason)
        self.code = code
        self.reason = reason


READ_ROLES = frozenset(Role) - {Role.ADMIN, Role.WORKER}  # the roles that read cases


def covers(grant_unit: str, unit: str) -> bool:
    """A grant on ``grant_unit`` covers ``unit`` and everything below it (paths with '/')."""
    return unit == grant_unit or unit.startswith(grant_unit + "/")


@dataclass(frozen=True)
class Actor:
    """Who acts: a user and their grants as (role, unit path) pairs."""

    user_id: int | None
    name: str
    grants: frozenset[tuple[Role, str]] = frozenset()

    def has(self, role: Role, unit: str) -> bool:
        return any(r == role and covers(u, unit) for r, u in self.grants)

    def roles_for(self, unit: str) -> frozenset[Role]:
        return frozenset(r for r, u in self.grants if covers(u, unit))

    def sees(self, unit: str) -> bool:
        """Whether the cases and records of ``unit`` are readable: leaders read everything,
        the other case roles their granted subtrees; admin and worker grants read no cases."""
        if any(r == Role.LEADER for r, _ in self.grants):
            return True
        return any(r in READ_ROLES and covers(u, unit) for r, u in self.grants)

    def reaches(self, unit: str) -> bool:
        """Any grant of any role covers ``unit`` (cameras for admins, ingest for workers)."""
        return any(covers(u, unit) for _, u in self.grants)


@dataclass(frozen=True)
class CaseFacts:
    """What the rules need to know of a case."""

    stage: Stage
    unit: str  # unit path
    source: Source = Source.CAMERA


@dataclass(frozen=True)
class FileRef:
    """An evidence file already stored (by content hash) that a transition brings."""

    sha256: str
    media_type: str
    size: int
    storage_key: str
    kind: str = "photo"  # photo | document | before | after | snapshot | frame | reference | clip
    name: str = ""  # shown only; never a file-system path


@dataclass(frozen=True)
class TransitionInput:
    comment: str = ""
    reason: str = ""
    label: str | None = None  # confirm: the structure class (correctable)
    area_m2: float | None = None
    files: tuple[FileRef, ...] = field(default_factory=tuple)


def allowed(case: CaseFacts, actor: Actor) -> list[Transition]:
    """The transitions ``actor`` may take on ``case`` now, in table order."""
    roles = actor.roles_for(case.unit)
    return [t for t in TRANSITIONS.values() if t.source == case.stage and roles & t.roles]


def check(name: str, case: CaseFacts, actor: Actor, data: TransitionInput) -> Transition:
    """The transition ``name`` if ``actor`` may take it on ``case`` with ``data``; else Refusal."""
    t = TRANSITIONS.get(name)
    if t is None:
        known = ", ".join(TRANSITIONS)
        raise Refusal("unknown_transition", f"no transition {name!r} (known: {known})")
    if case.stage != t.source:
        raise Refusal(
            "wrong_stage", f"{name} is taken in stage {t.source}; this case is in {case.stage}"
        )
    if not any(actor.has(r, case.unit) for r in t.roles):
        if any(r in t.roles for r, _ in actor.grants):
            raise Refusal(
                "foreign_unit", f"{actor.name} holds no {'/'.join(t.roles)} grant for {case.unit}"
            )
        needed = " or ".join(sorted(t.roles))
        raise Refusal("not_permitted", f"{name} needs the role {needed}")
    _check_fields(t, data)
    return t


def _check_fields(t: Transition, data: TransitionInput) -> None:
    for text, what in ((data.comment, "comment"), (data.reason, "reason")):
        if len(text) > MAX_TEXT:
            raise Refusal("invalid_field", f"{what} is {len(text)} characters; at most {MAX_TEXT}")
    if t.needs_reason and not data.reason.strip():
        raise Refusal("missing_field", f"{t.name} needs a reason")
    if t.needs_comment and not data.comment.strip():
        raise Refusal("missing_field", f"{t.name} needs a comment stating the proof")
    if t.needs_files and not _any_of(data.files, t.needs_files):
        kinds = ", ".join(sorted(t.needs_files))
        raise Refusal("missing_field", f"{t.name} needs at least one file of type {kinds}")
    if t.needs_area:
        a = data.area_m2
        if a is None:
            raise Refusal("missing_field", f"{t.name} needs the demolished area area_m2 (m²)")
        if not math.isfinite(a) or not 0 < a <= MAX_AREA_M2:
            raise Refusal("invalid_field", f"area_m2 must be in (0, {MAX_AREA_M2:g}] m², got {a}")
    elif data.area_m2 is not None:
        raise Refusal("invalid_field", f"{t.name} takes no area_m2")
    if data.label is not None and t.name != "confirm":
        raise Refusal("invalid_field", f"{t.name} takes no label")


def _any_of(files: Iterable[FileRef], types: frozenset[str]) -> bool:
    return any(f.media_type in types for f in files)

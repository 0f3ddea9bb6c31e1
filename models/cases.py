"""Cases: opening them (camera or manual), taking transitions, keeping the timeline.

Every function takes the caller's session (one transaction), the site's
:class:`~models.policy.WorkflowPolicy`, the acting :class:`~models.workflow.Actor` and
``now`` from the caller's injected clock. Refusals raise :class:`~models.workflow.Refusal`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import audit
from models.enums import STAGE_ROLE, EventKind, Role, Source, Stage
from models.policy import WorkflowPolicy
from models.tables import Case, CaseEvent, Detection, Evidence, StageRun, Unit
from models.workflow import (
    MAX_TEXT,
    PHOTO_TYPES,
    Actor,
    CaseFacts,
    FileRef,
    Refusal,
    Transition,
    TransitionInput,
    allowed,
    check,
)

# Called after a review transition on a camera case: (detection, its evidence, review.json).
ReviewSink = Callable[[Detection, Sequence[Evidence], dict[str, Any]], None]


def facts(session: Session, case: Case) -> CaseFacts:
    unit = session.get(Unit, case.unit_id)
    assert unit is not None  # a foreign key
    return CaseFacts(stage=Stage(case.stage), unit=unit.path, source=Source(case.source))


def transitions_for(session: Session, case: Case, actor: Actor) -> list[Transition]:
    """What ``actor`` may do with ``case`` now (the API's and pages' only source for it)."""
    return allowed(facts(session, case), actor)


def snapshot(case: Case) -> dict[str, Any]:
    keys = ("stage", "outcome", "label", "deadline_at", "demolished_m2", "closed_at", "unit_id")
    return {k: getattr(case, k) for k in keys}


def evidence_row(
    f: FileRef, case_id: int, event_id: int, now: dt.datetime, detection_id: int | None = None
) -> dict[str, Any]:
    """The ``evidence`` columns of one stored file (for the ORM and for Core inserts)."""
    return {
        "case_id": case_id,
        "event_id": event_id,
        "detection_id": detection_id,
        "kind": f.kind,
        "sha256": f.sha256,
        "media_type": f.media_type,
        "size": f.size,
        "storage_key": f.storage_key,
        "name": f.name[:255],
        "created_at": now,
    }


def add_files(
    session: Session,
    case_id: int,
    event_id: int,
    files: Sequence[FileRef],
    now: dt.datetime,
    detection_id: int | None = None,
) -> list[Evidence]:
    """One evidence row per stored file, tied to the timeline event that brought it."""
    rows = [Evidence(**evidence_row(f, case_id, event_id, now, detection_id)) for f in files]
    session.add_all(rows)
    return rows


def _event(case: Case, kind: EventKind, actor: Actor, now: dt.datetime, **kw: Any) -> CaseEvent:
    return CaseEvent(
        case_id=case.id, kind=str(kind), actor_id=actor.user_id, actor_name=actor.name, at=now, **kw
    )


def _start_stage(
    session: Session, policy: WorkflowPolicy, case: Case, stage: Stage, now: dt.datetime
) -> None:
    case.stage, case.stage_started_at = str(stage), now
    deadline = policy.deadline(stage, now)
    case.deadline_at = deadline
    if deadline is None:
        return
    runs = session.scalar(
        sa.select(sa.func.count()).where(StageRun.case_id == case.id, StageRun.stage == stage)
    )
    session.add(
        StageRun(
            case_id=case.id,
            stage=str(stage),
            run=int(runs or 0) + 1,
            role=str(STAGE_ROLE[stage]),
            unit_id=case.unit_id,
            started_at=now,
            deadline_at=deadline,
        )
    )


def open_case(
    session: Session,
    policy: WorkflowPolicy,
    *,
    actor: Actor,
    now: dt.datetime,
    source: Source,
    unit: Unit,
    files: Sequence[FileRef] = (),
    detection_id: int | None = None,
    **fields: Any,
) -> Case:
    """A new case in ``report`` (fields: camera_id, zone_id, x1…y2, label, description, lon,
    lat, accuracy_m, area_m2, reported_by)."""
    case = Case(
        source=str(source),
        stage=str(Stage.REPORT),
        unit_id=unit.id,
        opened_at=now,
        stage_started_at=now,
        target_at=policy.target(now),
        **fields,
    )
    session.add(case)
    session.flush()
    shown = {k: v for k, v in fields.items() if v is not None}
    event = _event(
        case,
        EventKind.OPENED,
        actor,
        now,
        to_stage=str(Stage.REPORT),
        fields=shown,
        detection_id=detection_id,
    )
    session.add(event)
    session.flush()
    add_files(session, case.id, event.id, files, now, detection_id)
    audit.record(
        session,
        at=now,
        actor=actor.name,
        action="case.open",
        entity="case",
        entity_id=case.id,
        after={"source": str(source), "unit": unit.path, **shown},
    )
    return case


def report_case(
    session: Session,
    policy: WorkflowPolicy,
    *,
    actor: Actor,
    now: dt.datetime,
    unit: Unit,
    photos: Sequence[FileRef],
    lon: float,
    lat: float,
    accuracy_m: float | None = None,
    description: str = "",
) -> Case:
    """A manual report by an inspector: photos, a GPS position and a description."""
    if not actor.has(Role.INSPECTOR, unit.path):
        code = (
            "foreign_unit"
            if any(r == Role.INSPECTOR for r, _ in actor.grants)
            else ("not_permitted")
        )
        raise Refusal(code, f"reporting in {unit.path} needs the inspector role there")
    if not unit.active:
        raise Refusal("invalid_field", f"unit {unit.path} is no longer active")
    if not any(p.media_type in PHOTO_TYPES for p in photos):
        raise Refusal("missing_field", "a report needs at least one photo (JPEG or PNG)")
    _check_position(lon, lat, accuracy_m)
    if len(description) > MAX_TEXT:
        raise Refusal("invalid_field", f"description is longer than {MAX_TEXT} characters")
    return open_case(
        session,
        policy,
        actor=actor,
        now=now,
        source=Source.MANUAL,
        unit=unit,
        files=[_as_kind(p, "photo") for p in photos],
        lon=lon,
        lat=lat,
        accuracy_m=accuracy_m,
        description=description,
        reported_by=actor.user_id,
    )


def _as_kind(f: FileRef, kind: str) -> FileRef:
    return FileRef(f.sha256, f.media_type, f.size, f.storage_key, kind, f.name)


def _check_position(lon: float, lat: float, accuracy_m: float | None) -> None:
    for value, lo, hi, what in ((lon, -180, 180, "lon"), (lat, -90, 90, "lat")):
        if not (isinstance(value, int | float) and math.isfinite(value) and lo <= value <= hi):
            raise Refusal(
                "invalid_field", f"{what} must be a number in [{lo}, {hi}], got {value!r}"
            )
    if accuracy_m is not None and not (math.isfinite(accuracy_m) and 0 <= accuracy_m <= 100_000):
        raise Refusal("invalid_field", f"accuracy_m must be in [0, 100000] m, got {accuracy_m!r}")


def take(
    session: Session,
    policy: WorkflowPolicy,
    case_id: int,
    name: str,
    *,
    actor: Actor,
    data: TransitionInput,
    now: dt.datetime,
    review_sink: ReviewSink | None = None,
) -> CaseEvent:
    """Take transition ``name`` on case ``case_id`` (row-locked until the caller commits)."""
    case = session.get(Case, case_id, with_for_update=True, populate_existing=True)
    if case is None:
        raise Refusal("not_found", f"no case {case_id}")
    t = check(name, facts(session, case), actor, data)
    before = snapshot(case)
    _end_run(session, case, name, now)
    if t.target == Stage.CLOSED:
        case.stage, case.stage_started_at, case.deadline_at = str(Stage.CLOSED), now, None
        case.outcome = str(t.outcome) if t.outcome else None
        case.closed_at = now
    else:
        _start_stage(session, policy, case, t.target, now)
    fields: dict[str, Any] = {}
    if data.label is not None:
        case.label = fields["label"] = data.label
    if data.area_m2 is not None:
        case.demolished_m2 = fields["area_m2"] = float(data.area_m2)
    event = _event(
        case,
        EventKind.TRANSITION,
        actor,
        now,
        transition=name,
        from_stage=t.source,
        to_stage=str(t.target),
        comment=data.comment,
        reason=data.reason,
        fields=fields,
    )
    session.add(event)
    session.flush()
    add_files(session, case.id, event.id, data.files, now)
    audit.record(
        session,
        at=now,
        actor=actor.name,
        action=f"case.{name}",
        entity="case",
        entity_id=case.id,
        before=before,
        after={**snapshot(case), **fields, "comment": data.comment, "reason": data.reason},
    )
    if review_sink is not None and case.source == Source.CAMERA and name in ("confirm", "dismiss"):
        _write_reviews(session, case, name, actor, data, now, review_sink)
    return event


def _end_run(session: Session, case: Case, name: str, now: dt.datetime) -> None:
    run = session.scalar(
        sa.select(StageRun).where(StageRun.case_id == case.id, StageRun.ended_at.is_(None))
    )
    if run is not None:
        run.ended_at, run.ended_by = now, name


def _write_reviews(
    session: Session,
    case: Case,
    name: str,
    actor: Actor,
    data: TransitionInput,
    now: dt.datetime,
    sink: ReviewSink,
) -> None:
    review: dict[str, Any] = {
        "decision": "confirmed" if name == "confirm" else "dismissed",
        "reviewer": actor.name,
        "reviewed_at": now,
    }
    if name == "confirm":
        review["label"] = case.label
    else:
        review["reason"] = " — ".join(x for x in (data.reason, data.comment) if x.strip())
    detections = session.scalars(
        sa.select(Detection).where(Detection.case_id == case.id, Detection.event == "confirmed")
    ).all()
    for det in detections:
        files = session.scalars(sa.select(Evidence).where(Evidence.detection_id == det.id)).all()
        sink(det, files, review)

"""Camera detections in: applied exactly once per idempotency key, opening or joining cases.

At-least-once delivery from the worker's outbox meets a unique ``idempotency_key``: the
row is inserted with ``ON CONFLICT DO NOTHING``, so concurrent duplicates (threads or
processes) leave one detection and one case. The camera row is locked first, so two
different detections of one structure arriving together still make one case.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import audit
from models.cases import add_files, open_case
from models.engine import insert_ignoring_conflicts
from models.enums import EventKind, Source, Stage
from models.geometry import iou
from models.policy import WorkflowPolicy
from models.tables import Camera, Case, CaseEvent, Detection, Unit, Zone
from models.workflow import Actor, FileRef, Refusal

EVENTS = ("confirmed", "gone")


@dataclass(frozen=True)
class IngestResult:
    detection_id: int
    case_id: int | None
    opened: bool  # the detection opened a new case (False: attached, or no case)
    repeat: bool  # the same key was applied before; nothing new was written

    def body(self) -> dict[str, Any]:
        return {
            "detection_id": self.detection_id,
            "case_id": self.case_id,
            "opened": self.opened,
            "attached": self.case_id is not None and not self.opened,
        }


def _num(
    record: dict[str, Any], key: str, lo: float, hi: float, optional: bool = False
) -> float | None:
    value = record.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Refusal("invalid_field", f"detection.{key} must be a number, got {value!r}")
    if not lo <= value <= hi:
        raise Refusal("invalid_field", f"detection.{key} must be in [{lo:g}, {hi:g}], got {value}")
    return float(value)


def _text(record: dict[str, Any], key: str, optional: bool = False) -> str:
    value = record.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str) or not value or len(value) > 64:
        raise Refusal(
            "invalid_field", f"detection.{key} must be a string of 1–64 characters, got {value!r}"
        )
    return value


def validate(record: object) -> dict[str, Any]:
    """The fields of a ``detection.json`` record that ingest uses, checked."""
    if not isinstance(record, dict):
        raise Refusal("invalid_field", "the detection must be a JSON object")
    event = record.get("event")
    if event not in EVENTS:
        raise Refusal("invalid_field", f"detection.event must be confirmed or gone, got {event!r}")
    box = record.get("bbox")
    if not isinstance(box, list) or len(box) != 4:
        raise Refusal("invalid_field", "detection.bbox must be [x1, y1, x2, y2]")
    coords = [_num({"bbox": v}, "bbox", -1e6, 1e6) for v in box]
    x1, y1, x2, y2 = (float(c or 0.0) for c in coords)
    if not (x2 > x1 and y2 > y1):
        raise Refusal("invalid_field", f"detection.bbox must have x2 > x1 and y2 > y1, got {box}")
    return {
        "event": event,
        "camera": _text(record, "camera"),
        "zone": _text(record, "zone"),
        "uid": _text(record, "id"),
        "label": _text(record, "label", optional=True),
        "score": _num(record, "score", 0, 1),
        "box": (x1, y1, x2, y2),
        "first_seen_s": _num(record, "first_seen_s", 0, 1e12, optional=True),
        "confirmed_s": _num(record, "confirmed_s", 0, 1e12, optional=True),
        "area_m2": _num(record, "area_m2", 0, 1e7, optional=True),
        "lon": _num(record, "lon", -180, 180, optional=True),
        "lat": _num(record, "lat", -90, 90, optional=True),
    }


def ingest(
    session: Session,
    policy: WorkflowPolicy,
    *,
    key: str,
    body_sha256: str,
    record: dict[str, Any],
    files: Sequence[FileRef],
    actor: Actor,
    now: dt.datetime,
) -> IngestResult:
    """Apply one detection; a repeat of ``key`` returns the first result unchanged.

    A worker whose grants do not cover the camera's unit is refused (``foreign_unit``).
    """
    if not key or len(key) > 200:
        raise Refusal("invalid_field", "Idempotency-Key must be 1–200 characters")
    v = validate(record)
    camera = session.execute(
        sa.select(Camera.id, Camera.unit_id).where(Camera.id == v["camera"]).with_for_update()
    ).one_or_none()
    if camera is None:
        raise Refusal("invalid_field", f"unknown camera {v['camera']!r}")
    unit_id, unit_path = _unit_for(session, camera.unit_id, v["camera"], v["zone"])
    if unit_path is not None and not actor.reaches(unit_path):
        raise Refusal("foreign_unit", f"{actor.name} holds no grant for camera {v['camera']!r}")
    det_id = _insert(session, key, body_sha256, record, v, now, unit_id)
    if det_id is None:
        return _repeat(session, key, body_sha256)
    det = _Det(det_id, v, unit_id)
    case_id: int | None
    if v["event"] == "confirmed":
        case_id, opened = _confirmed(session, policy, det, files, actor, now)
    else:
        case_id, opened = _gone(session, det, files, actor, now), False
    if case_id is not None:
        session.execute(
            sa.update(Detection)
            .where(Detection.id == det_id)
            .values(case_id=case_id, opened_case=opened)
        )
    return IngestResult(det_id, case_id, opened, repeat=False)


@dataclass(frozen=True)
class _Det:
    """The inserted detection's values (no second read of the row)."""

    id: int
    v: dict[str, Any]
    unit_id: int | None

    @property
    def box(self) -> tuple[float, float, float, float]:
        b: tuple[float, float, float, float] = self.v["box"]
        return b


def _insert(
    session: Session,
    key: str,
    body: str,
    record: dict[str, Any],
    v: dict[str, Any],
    now: dt.datetime,
    unit_id: int | None,
) -> int | None:
    x1, y1, x2, y2 = v["box"]
    values = dict(
        idempotency_key=key,
        body_sha256=body,
        uid=v["uid"],
        event=v["event"],
        camera_id=v["camera"],
        zone_id=v["zone"],
        unit_id=unit_id,
        x1=x1,
        y1=y1,
        x2=x2,
        y2=y2,
        score=v["score"],
        label=v["label"],
        first_seen_s=v["first_seen_s"],
        confirmed_s=v["confirmed_s"],
        detected_at=now,
        received_at=now,
        area_m2=v["area_m2"],
        lon=v["lon"],
        lat=v["lat"],
        record=record,
        opened_case=False,
    )
    stmt = insert_ignoring_conflicts(
        session, Detection, values, index_elements=[Detection.idempotency_key]
    ).returning(Detection.id)
    return session.execute(stmt).scalar_one_or_none()


def _repeat(session: Session, key: str, body: str) -> IngestResult:
    det = session.execute(
        sa.select(
            Detection.id, Detection.case_id, Detection.opened_case, Detection.body_sha256
        ).where(Detection.idempotency_key == key)
    ).one()  # the row whose key stopped the insert
    if det.body_sha256 != body:
        raise Refusal("conflict", "this Idempotency-Key was used before with another body")
    return IngestResult(det.id, det.case_id, det.opened_case, repeat=True)


def _unit_for(
    session: Session, camera_unit: int | None, camera_id: str, zone_id: str
) -> tuple[int | None, str | None]:
    """The unit a detection is filed under: its zone's, else its camera's, else the district."""
    zone_unit = session.scalar(
        sa.select(Zone.unit_id).where(Zone.camera_id == camera_id, Zone.zone_id == zone_id)
    )
    uid = zone_unit or camera_unit
    q = sa.select(Unit.id, Unit.path)
    q = (
        q.where(Unit.id == uid)
        if uid is not None
        else q.where(Unit.level == "district", Unit.active.is_(True))
    )
    row = session.execute(q).first()
    return (row.id, row.path) if row else (None, None)


def _best_open_case(
    session: Session, det: _Det, min_iou: float, stages: Sequence[str]
) -> int | None:
    rows = session.execute(
        sa.select(Case.id, Case.x1, Case.y1, Case.x2, Case.y2).where(
            Case.camera_id == det.v["camera"],
            Case.zone_id == det.v["zone"],
            Case.stage.in_(stages),
            Case.x1.is_not(None),
        )
    ).all()
    scored = [(iou(det.box, (r.x1, r.y1, r.x2, r.y2)), -r.id) for r in rows]
    best = max(scored, default=None)
    return -best[1] if best is not None and best[0] >= min_iou else None


def _confirmed(
    session: Session,
    policy: WorkflowPolicy,
    det: _Det,
    files: Sequence[FileRef],
    actor: Actor,
    now: dt.datetime,
) -> tuple[int, bool]:
    open_stages = [s.value for s in Stage if s != Stage.CLOSED]
    case_id = _best_open_case(session, det, policy.attach_iou, open_stages)
    if case_id is not None:
        _add_event(
            session,
            case_id,
            EventKind.ATTACHED,
            det,
            files,
            actor,
            now,
            {"score": det.v["score"], "label": det.v["label"]},
        )
        audit.record(
            session,
            at=now,
            actor=actor.name,
            action="case.attach",
            entity="case",
            entity_id=case_id,
            after={"detection": det.v["uid"]},
        )
        return case_id, False
    if det.unit_id is None:
        raise Refusal("invalid_field", "no reporting unit for this camera: sync the site first")
    unit = session.get(Unit, det.unit_id)
    assert unit is not None
    x1, y1, x2, y2 = det.box
    v = det.v
    case = open_case(
        session,
        policy,
        actor=actor,
        now=now,
        source=Source.CAMERA,
        unit=unit,
        files=files,
        detection_id=det.id,
        camera_id=v["camera"],
        zone_id=v["zone"],
        x1=x1,
        y1=y1,
        x2=x2,
        y2=y2,
        label=v["label"],
        lon=v["lon"],
        lat=v["lat"],
        area_m2=v["area_m2"],
    )
    return case.id, True


def _add_event(
    session: Session,
    case_id: int,
    kind: EventKind,
    det: _Det,
    files: Sequence[FileRef],
    actor: Actor,
    now: dt.datetime,
    fields: dict[str, Any],
) -> None:
    event = CaseEvent(
        case_id=case_id,
        kind=str(kind),
        actor_id=actor.user_id,
        actor_name=actor.name,
        at=now,
        detection_id=det.id,
        fields=fields,
    )
    session.add(event)
    session.flush()
    add_files(session, case_id, event.id, files, now, det.id)


def _gone(
    session: Session, det: _Det, files: Sequence[FileRef], actor: Actor, now: dt.datetime
) -> int | None:
    """A structure the camera saw disappear: evidence of removal on its case, if one is open."""
    stages = [Stage.REPORT.value, Stage.DETERMINE.value, Stage.RECTIFY.value, Stage.VERIFY.value]
    case_id = _best_open_case(session, det, 0.1, stages)
    if case_id is None:
        return None
    stage = session.scalar(sa.select(Case.stage).where(Case.id == case_id))
    session.execute(sa.update(Case).where(Case.id == case_id).values(camera_gone_at=now))
    _add_event(session, case_id, EventKind.CAMERA_GONE, det, files, actor, now, {"stage": stage})
    audit.record(
        session,
        at=now,
        actor=actor.name,
        action="case.camera_gone",
        entity="case",
        entity_id=case_id,
        after={"detection": det.v["uid"], "stage": stage},
    )
    return case_id

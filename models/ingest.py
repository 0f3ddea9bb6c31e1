"""Camera detections in: applied exactly once per idempotency key, opening or joining cases.

At-least-once delivery from the worker's outbox meets a unique ``idempotency_key``: the
row is inserted with ``ON CONFLICT DO NOTHING``, so concurrent duplicates (threads or
processes) leave one detection and one case. The camera row is locked before its open
cases are read, so two different detections of one structure arriving together still make
one case.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from models import audit
from models.cases import evidence_row
from models.enums import EventKind, Source, Stage
from models.geometry import iou
from models.ingest_sql import (
    CAMERA,
    DISTRICT,
    FILED,
    GONE,
    NEW_CASE,
    NEW_EVENT,
    NEW_EVIDENCE,
    OPEN_CASE_PG,
    OPEN_CASES,
    OPEN_CASES_PG,
    SEEN,
    fetch,
    insert_detection,
    lock_and_insert_pg,
    run_pg,
)
from models.policy import WorkflowPolicy
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
    db: Session | sa.Connection,
    policy: WorkflowPolicy,
    *,
    key: str,
    body_sha256: str,
    record: dict[str, Any],
    files: Sequence[FileRef],
    actor: Actor,
    now: dt.datetime,
) -> IngestResult:
    """Apply one detection in ``db``'s transaction (a session's, or a Core connection's: the
    API passes a connection, no ORM session); a repeat of ``key`` returns the first result
    unchanged.

    A worker whose grants do not cover the camera's unit is refused (``foreign_unit``).
    SQLAlchemy Core statements, a handful (on PostgreSQL the hot ones run straight on the
    psycopg connection: :func:`models.ingest_sql.run_pg`). The detection is inserted first, without
    a lock (``ON CONFLICT DO NOTHING``: a repeat inserts nothing, then is one read, and
    takes no lock). A new one then locks its camera, reads the camera's open cases, and
    opens one or joins one; on PostgreSQL opening is one statement (case, timeline line,
    link, evidence rows and the audit entry). The audit entry comes last, so the chain's
    head is locked only for that statement and the caller's commit.
    """
    if not key or len(key) > 200:
        raise Refusal("invalid_field", "Idempotency-Key must be 1–200 characters")
    v = validate(record)
    conn = db.connection() if isinstance(db, Session) else db
    filed = _insert(conn, key, body_sha256, record, v, now)
    if filed is None:  # the key was applied before (or is being, and now is), or no camera
        seen = _repeat(conn, key, body_sha256, actor)  # a retry: no lock, nothing written
        if seen is None:
            raise Refusal("invalid_field", f"unknown camera {v['camera']!r}")
        return seen
    det_id, unit_id, unit_path = filed
    if unit_path is not None and not actor.reaches(unit_path):  # the insert is rolled back
        raise Refusal("foreign_unit", f"{actor.name} holds no grant for camera {v['camera']!r}")
    det = _Det(det_id, v, unit_id, unit_path, actor, now)
    if v["event"] == "confirmed":
        case_id, opened, entry = _confirmed(conn, policy, det, files)
    else:
        case_id, opened, entry = _gone(conn, det, files)
    if entry is not None:
        audit.append(conn, at=now, actor=actor.name, entity="case", **entry)
    return IngestResult(det_id, case_id, opened, repeat=False)


@dataclass(frozen=True)
class _Det:
    """The inserted detection's values (no second read of the row) and who sent it when."""

    id: int
    v: dict[str, Any]
    unit_id: int | None
    unit_path: str | None
    actor: Actor
    now: dt.datetime

    @property
    def box(self) -> tuple[float, float, float, float]:
        b: tuple[float, float, float, float] = self.v["box"]
        return b


def _insert(
    conn: sa.Connection,
    key: str,
    body: str,
    record: dict[str, Any],
    v: dict[str, Any],
    now: dt.datetime,
) -> tuple[int, int | None, str | None] | None:
    """The detection, filed under its zone's unit (else its camera's, else the district's),
    with its camera locked: its id, unit id and unit path; None for a key already used or
    an unknown camera (and then no lock). One statement on PostgreSQL; on SQLite (one
    writer at a time) the insert, then the camera's unit."""
    x1, y1, x2, y2 = v["box"]
    values = dict(
        idempotency_key=key,
        body_sha256=body,
        uid=v["uid"],
        event=v["event"],
        camera_id=v["camera"],
        zone_id=v["zone"],
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
    if conn.dialect.name == "postgresql":
        rows = run_pg(conn, lock_and_insert_pg(), values)
        return None if not rows else (rows[0][0], rows[0][1], rows[0][2])
    det_id = conn.execute(insert_detection(conn.dialect.name), values).scalar_one_or_none()
    if det_id is None:
        return None
    return (det_id, *_lock_camera(conn, v["camera"], v["zone"]))


def _repeat(conn: sa.Connection, key: str, body: str, actor: Actor) -> IngestResult | None:
    rows = fetch(conn, SEEN, {"key": key})
    if not rows:
        return None
    det_id, case_id, opened_case, body_sha256, path = rows[0]
    if path is not None and not actor.reaches(path):
        raise Refusal("foreign_unit", f"{actor.name} holds no grant for this detection's camera")
    if body_sha256 != body:
        raise Refusal("conflict", "this Idempotency-Key was used before with another body")
    return IngestResult(det_id, case_id, opened_case, repeat=True)


def _lock_camera(
    conn: sa.Connection, camera_id: str, zone_id: str
) -> tuple[int | None, str | None]:
    """Lock the camera row until commit, and find the unit a detection is filed under: its
    zone's, else its camera's, else the district (one statement in the common case)."""
    row = conn.execute(CAMERA, {"camera": camera_id, "zone": zone_id}).one_or_none()
    if row is None:
        raise Refusal("invalid_field", f"unknown camera {camera_id!r}")
    if row.unit_id is not None:
        return (row.unit_id, row.path) if row.path is not None else (None, None)
    district = conn.execute(DISTRICT).first()
    return (district.id, district.path) if district else (None, None)


def _best_open_case(
    conn: sa.Connection, det: _Det, min_iou: float, stages: Sequence[str]
) -> tuple[int, str] | None:
    if not min_iou > 0:  # OPEN_CASES fetches overlapping boxes only: IoU > 0
        raise ValueError(f"min_iou must be above 0, got {min_iou}")
    x1, y1, x2, y2 = det.box
    params = {"camera": det.v["camera"], "zone": det.v["zone"], "stages": list(stages)}
    params |= {"x1": x1, "y1": y1, "x2": x2, "y2": y2}
    pg = conn.dialect.name == "postgresql"
    rows = fetch(conn, OPEN_CASES_PG if pg else OPEN_CASES, params)  # id, stage, x1 … y2
    scored = [(iou(det.box, (r[2], r[3], r[4], r[5])), -r[0], r[1]) for r in rows]
    best = max(scored, default=None)
    return (-best[1], best[2]) if best is not None and best[0] >= min_iou else None


# what ``_confirmed`` / ``_gone`` leave for the audit chain: action, entity_id, after
_Entry = dict[str, Any]


def _confirmed(
    conn: sa.Connection, policy: WorkflowPolicy, det: _Det, files: Sequence[FileRef]
) -> tuple[int | None, bool, _Entry | None]:
    open_stages = [s.value for s in Stage if s != Stage.CLOSED]
    found = _best_open_case(conn, det, policy.attach_iou, open_stages)
    if found is not None:
        case_id = found[0]
        fields = {"score": det.v["score"], "label": det.v["label"]}
        _add_event(conn, case_id, EventKind.ATTACHED, det, files, fields)
        conn.execute(FILED, {"det": det.id, "case_id": case_id, "opened_case": False})
        after = {"detection": det.v["uid"]}
        return case_id, False, {"action": "case.attach", "entity_id": case_id, "after": after}
    if det.unit_id is None or det.unit_path is None:
        raise Refusal("invalid_field", "no reporting unit for this camera: sync the site first")
    x1, y1, x2, y2 = det.box
    v = det.v
    fields = dict(
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
    row = dict(
        source=str(Source.CAMERA),
        stage=str(Stage.REPORT),
        unit_id=det.unit_id,
        opened_at=det.now,
        stage_started_at=det.now,
        target_at=policy.target(det.now),
        **fields,
    )
    shown = {k: v for k, v in fields.items() if v is not None}
    after = {"source": str(Source.CAMERA), "unit": det.unit_path, **shown}
    entry: _Entry = {"action": "case.open", "after": after}
    case_id, audited = _open_case(conn, det, row, shown, files, entry)
    return case_id, True, None if audited else {**entry, "entity_id": case_id}


def _open_case(
    conn: sa.Connection,
    det: _Det,
    row: dict[str, Any],
    shown: dict[str, Any],
    files: Sequence[FileRef],
    entry: _Entry,
) -> tuple[int, bool]:
    """The case, its "opened" line, the detection's link, its evidence and (if the chain has
    its head row) its audit entry: one statement on PostgreSQL. Returns the case id and
    whether the audit entry was written."""
    if conn.dialect.name != "postgresql":
        case_id: int = conn.execute(NEW_CASE, row).scalar_one()
        _add_event(conn, case_id, EventKind.OPENED, det, files, shown, to_stage=str(Stage.REPORT))
        conn.execute(FILED, {"det": det.id, "case_id": case_id, "opened_case": True})
        return case_id, False
    params = {k: v for k, v in row.items() if k not in ("opened_at", "stage_started_at")}
    params |= {"now": det.now, "kind": str(EventKind.OPENED), "fields": shown, "det": det.id}
    params |= {"actor_id": det.actor.user_id, "actor_name": det.actor.name}
    rows = [evidence_row(f, 0, 0, det.now) for f in files]
    keep = ("kind", "sha256", "media_type", "size", "storage_key", "name")
    params["files"] = json.dumps([{k: r[k] for k in keep} for r in rows])
    prefix = audit.entity_id_prefix(
        at=det.now,
        actor=det.actor.name,
        action=entry["action"],
        entity="case",
        after=entry["after"],
    )
    params |= {"audit_prefix": prefix, "audit_at": det.now, "audit_actor": det.actor.name}
    params |= {"audit_action": entry["action"], "audit_entity": "case"}
    ((case_id, _event_id, seq),) = run_pg(conn, OPEN_CASE_PG, params)
    return int(case_id), seq is not None


def _add_evidence(
    conn: sa.Connection, case_id: int, event_id: int, det: _Det, files: Sequence[FileRef]
) -> None:
    if files:
        rows = [evidence_row(f, case_id, event_id, det.now, det.id) for f in files]
        conn.execute(NEW_EVIDENCE, rows)


def _add_event(
    conn: sa.Connection,
    case_id: int,
    kind: EventKind,
    det: _Det,
    files: Sequence[FileRef],
    fields: dict[str, Any],
    to_stage: str | None = None,
) -> None:
    """The timeline line (one statement) and its evidence rows (one more, if any)."""
    row = dict(
        case_id=case_id,
        kind=str(kind),
        to_stage=to_stage,
        actor_id=det.actor.user_id,
        actor_name=det.actor.name,
        at=det.now,
        detection_id=det.id,
        fields=fields,
    )
    event_id = conn.execute(NEW_EVENT, row).scalar_one()
    _add_evidence(conn, case_id, event_id, det, files)


def _gone(
    conn: sa.Connection, det: _Det, files: Sequence[FileRef]
) -> tuple[int | None, bool, _Entry | None]:
    """A structure the camera saw disappear: evidence of removal on its case, if one is open."""
    stages = [Stage.REPORT.value, Stage.DETERMINE.value, Stage.RECTIFY.value, Stage.VERIFY.value]
    found = _best_open_case(conn, det, 0.1, stages)
    if found is None:
        return None, False, None
    case_id, stage = found
    conn.execute(GONE, {"case_id": case_id, "camera_gone_at": det.now})
    _add_event(conn, case_id, EventKind.CAMERA_GONE, det, files, {"stage": stage})
    conn.execute(FILED, {"det": det.id, "case_id": case_id, "opened_case": False})
    after = {"detection": det.v["uid"], "stage": stage}
    return case_id, False, {"action": "case.camera_gone", "entity_id": case_id, "after": after}

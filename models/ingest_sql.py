"""The statements of :mod:`models.ingest`, built once: each call only binds parameters."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.compiler import SQLCompiler

from models.audit import APPEND_CTE_PG
from models.tables import Camera, Case, CaseEvent, Detection, Evidence, Unit, Zone


def table_of(model: type[Any]) -> sa.Table:
    """The Core table of a mapped class: inserts through it skip the ORM's unit of work."""
    table: sa.Table = model.__table__
    return table


# The statements, built once: each call only binds parameters (no per-call SQL building).
SEEN = (
    sa.select(
        Detection.id, Detection.case_id, Detection.opened_case, Detection.body_sha256, Unit.path
    )
    .outerjoin(Unit, Unit.id == Detection.unit_id)
    .where(Detection.idempotency_key == sa.bindparam("key"))
)
FILED_UNIT = sa.func.coalesce(Zone.unit_id, Camera.unit_id)
CAMERA = (
    sa.select(Camera.id, FILED_UNIT.label("unit_id"), Unit.path)
    .outerjoin(Zone, sa.and_(Zone.camera_id == Camera.id, Zone.zone_id == sa.bindparam("zone")))
    .outerjoin(Unit, Unit.id == FILED_UNIT)
    .where(Camera.id == sa.bindparam("camera"))
    # FOR NO KEY UPDATE: it serialises ingests of one camera as FOR UPDATE would, without
    # waiting for the key-share lock that each transaction's detection insert (a foreign key
    # to the camera) already holds, which would deadlock two of them
    .with_for_update(of=table_of(Camera), key_share=True)
)
DISTRICT = sa.select(Unit.id, Unit.path).where(Unit.level == "district", Unit.active.is_(True))
# the open cases of a camera's zone whose box overlaps the detection's (x1, y1, x2, y2):
# the only ones whose IoU can reach a threshold above 0 (the others are not even fetched)
OPEN_CASES = sa.select(Case.id, Case.stage, Case.x1, Case.y1, Case.x2, Case.y2).where(
    Case.camera_id == sa.bindparam("camera"),
    Case.zone_id == sa.bindparam("zone"),
    Case.stage.in_(sa.bindparam("stages", expanding=True)),
    Case.x1.is_not(None),
    Case.x1 < sa.bindparam("x2"),
    Case.x2 > sa.bindparam("x1"),
    Case.y1 < sa.bindparam("y2"),
    Case.y2 > sa.bindparam("y1"),
)
NEW_CASE = sa.insert(table_of(Case)).returning(Case.id)
NEW_EVENT = sa.insert(table_of(CaseEvent)).returning(CaseEvent.id)
NEW_EVIDENCE = sa.insert(table_of(Evidence))
FILED = sa.update(table_of(Detection)).where(Detection.id == sa.bindparam("det"))
GONE = sa.update(table_of(Case)).where(Case.id == sa.bindparam("case_id"))


DETECTION_COLUMNS = (
    "idempotency_key", "body_sha256", "uid", "event", "camera_id", "zone_id", "x1", "y1", "x2",
    "y2", "score", "label", "first_seen_s", "confirmed_s", "detected_at", "received_at",
    "area_m2", "lon", "lat", "record", "opened_case",
)  # fmt: skip
DISTRICT_ID = (
    sa.select(Unit.id).where(Unit.level == "district", Unit.active.is_(True)).limit(1)
).scalar_subquery()


@functools.cache
def insert_detection(dialect: str) -> sa.Insert:
    """``INSERT … SELECT … FROM cameras … ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id`` (PostgreSQL, SQLite): the row's unit is its zone's, else its camera's,
    else the district (as :data:`CAMERA` and :data:`DISTRICT` find it); no row is inserted
    for a repeated key or an unknown camera. Binds :data:`DETECTION_COLUMNS`."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    table = table_of(Detection)
    values = [sa.bindparam(c, type_=table.c[c].type) for c in DETECTION_COLUMNS]
    unit = sa.func.coalesce(Zone.unit_id, Camera.unit_id, DISTRICT_ID)
    source = (
        sa.select(*values, unit)
        .select_from(Camera)
        .outerjoin(
            Zone, sa.and_(Zone.camera_id == Camera.id, Zone.zone_id == sa.bindparam("zone_id"))
        )
        .where(Camera.id == sa.bindparam("camera_id"))
    )
    stmt = insert(table).from_select([*DETECTION_COLUMNS, "unit_id"], source)
    stmt = stmt.on_conflict_do_nothing(index_elements=[Detection.idempotency_key])
    return stmt.returning(Detection.id)


@functools.cache
def lock_and_insert_pg() -> sa.Select[Any]:
    """PostgreSQL: :data:`CAMERA`'s lock and :func:`insert_detection` in one statement,
    unless the key is already taken (then neither: a repeat takes no lock). Returns the new
    detection's id, unit_id and the unit's path; no row for a repeated key (also one that a
    concurrent transaction just committed: the insert still conflicts) or an unknown camera.
    The lock comes first, so the detection's foreign key to its camera adds nothing to wait
    for; the open cases are read in the next statement, whose snapshot starts after it."""
    from sqlalchemy.dialects.postgresql import insert

    table = table_of(Detection)
    taken = sa.select(Detection.id).where(
        Detection.idempotency_key == sa.bindparam("idempotency_key")
    )
    cam = (
        sa.select(
            Camera.id, sa.func.coalesce(Zone.unit_id, Camera.unit_id, DISTRICT_ID).label("unit_id")
        )
        .outerjoin(
            Zone, sa.and_(Zone.camera_id == Camera.id, Zone.zone_id == sa.bindparam("zone_id"))
        )
        .where(Camera.id == sa.bindparam("camera_id"), ~taken.exists())
        .with_for_update(of=table_of(Camera), key_share=True)
        .cte("cam")
    )
    values = [sa.bindparam(c, type_=table.c[c].type) for c in DETECTION_COLUMNS]
    ins = (
        insert(table)
        .from_select(
            [*DETECTION_COLUMNS, "unit_id"], sa.select(*values, cam.c.unit_id).where(sa.true())
        )
        .on_conflict_do_nothing(index_elements=[Detection.idempotency_key])
        .returning(Detection.id, Detection.unit_id)
        .cte("ins")
    )
    return sa.select(ins.c.id, ins.c.unit_id, Unit.path).select_from(
        ins.outerjoin(Unit, Unit.id == ins.c.unit_id)
    )


# PostgreSQL: a new case, its "opened" timeline line, the detection's link to it, its
# evidence rows (``:files``, a JSON array of evidence_row()s) and its audit entry, in one
# statement: returns case_id, event_id and audit_seq (NULL: no audit head row yet, append
# it with audit.append). SQLite runs NEW_CASE, NEW_EVENT, NEW_EVIDENCE, FILED and
# audit.append instead.
OPEN_CASE_PG = sa.text(
    """
    WITH new_case AS (
        INSERT INTO cases (source, stage, unit_id, opened_at, stage_started_at, target_at,
                           camera_id, zone_id, x1, y1, x2, y2, label, description, lon, lat,
                           area_m2, version)
        VALUES (:source, :stage, :unit_id, :now, :now, :target_at, :camera_id, :zone_id,
                :x1, :y1, :x2, :y2, :label, '', :lon, :lat, :area_m2, 1)
        RETURNING id
    ),
    new_event AS (
        INSERT INTO case_events (case_id, kind, to_stage, actor_id, actor_name, at, comment,
                                 reason, fields, detection_id)
        SELECT id, :kind, :stage, :actor_id, :actor_name, :now, '', '', :fields, :det
        FROM new_case
        RETURNING id, case_id
    ),
    filed AS (
        UPDATE detections SET case_id = new_case.id, opened_case = true
        FROM new_case WHERE detections.id = :det
    ),
    new_evidence AS (
        INSERT INTO evidence (case_id, event_id, detection_id, kind, sha256, media_type, size,
                              storage_key, name, created_at)
        SELECT new_event.case_id, new_event.id, :det, f.kind, f.sha256, f.media_type, f.size,
               f.storage_key, f.name, :now
        FROM new_event, jsonb_to_recordset(CAST(:files AS jsonb)) AS f(
            kind text, sha256 text, media_type text, size bigint, storage_key text, name text)
    ),"""
    + APPEND_CTE_PG.format(source="new_case", entity_id="new_case.id")
    + """
    SELECT new_event.case_id, new_event.id AS event_id, (SELECT seq FROM audit_logged) AS
           audit_seq
    FROM new_event
    """
).bindparams(
    sa.bindparam("now", type_=table_of(Case).c.opened_at.type),
    sa.bindparam("audit_at", type_=table_of(Case).c.opened_at.type),
    sa.bindparam("target_at", type_=table_of(Case).c.target_at.type),
    sa.bindparam("fields", type_=table_of(CaseEvent).c.fields.type),
)


# PostgreSQL: OPEN_CASES with the stages as one array parameter (``= ANY``), so the
# statement needs no per-call rendering of an expanding ``IN`` list
OPEN_CASES_PG = sa.select(Case.id, Case.stage, Case.x1, Case.y1, Case.x2, Case.y2).where(
    Case.camera_id == sa.bindparam("camera"),
    Case.zone_id == sa.bindparam("zone"),
    Case.stage == sa.any_(sa.bindparam("stages", type_=postgresql.ARRAY(sa.String))),
    Case.x1.is_not(None),
    Case.x1 < sa.bindparam("x2"),
    Case.x2 > sa.bindparam("x1"),
    Case.y1 < sa.bindparam("y2"),
    Case.y2 > sa.bindparam("y1"),
)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]  # every bind's value (the statement's own literals; None else)
    processors: dict[str, Callable[[Any], Any]]


@functools.cache
def _compiled(stmt: sa.ClauseElement, dialect: sa.Dialect) -> _Compiled:
    compiled = stmt.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if compiled.escaped_bind_names:  # (none of the ingest's names need escaping)
        raise ValueError("a bind name needs escaping")
    processors: dict[str, Callable[[Any], Any]] = {}
    for name, process in compiled._bind_processors.items():  # SQLAlchemy's own, by type
        if not callable(process):  # (a tuple's processors: no ingest statement binds one)
            raise ValueError(f"{name}: a tuple bind")
        processors[name] = process
    defaults = dict(compiled.construct_params(_check=False))
    return _Compiled(str(compiled), defaults, processors)


def fetch(conn: sa.Connection, stmt: Any, params: dict[str, Any]) -> list[Any]:
    """``conn.execute(stmt, params)``'s rows as plain tuples (:func:`run_pg` on PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        return run_pg(conn, stmt, params)
    return [tuple(row) for row in conn.execute(stmt, params)]


def run_pg(conn: sa.Connection, stmt: sa.ClauseElement, params: dict[str, Any]) -> list[Any]:
    """``conn.execute(stmt, params).all()`` on PostgreSQL, as plain tuples, straight on
    the psycopg connection of ``conn``'s transaction: the SQL and the parameters' type
    processing are SQLAlchemy's, compiled once, but the per-call work of its execution
    context and result objects (about 60 µs of CPU a statement) is skipped. A database
    error goes through SQLAlchemy's handler, so it is raised as ``sa.exc.DBAPIError``, with
    a dead connection invalidated (``connection_invalidated``) as ``conn.execute`` does."""
    c = _compiled(stmt, conn.dialect)
    args = c.defaults | params
    for name, process in c.processors.items():
        args[name] = process(args[name])
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        cursor.execute(c.sql, args)
        return cursor.fetchall() if cursor.description is not None else []
    except Exception as exc:
        conn._handle_dbapi_exception(exc, c.sql, args, cursor, None)
    finally:
        cursor.close()

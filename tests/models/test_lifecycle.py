"""Whole lives of cases, through the services only: a camera case and a manual report."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from models import cases, ingest
from models.access import unit_by_ref
from models.enums import EventKind, Outcome, Role, Stage
from models.review import FolderReviewSink
from models.tables import Case, CaseEvent, Detection, Evidence, StageRun
from models.workflow import Actor, Refusal, TransitionInput
from tests.models.conftest import TZ, World, detection, photo


def _ingest(w: World, rec: dict[str, object], key: str | None = None) -> ingest.IngestResult:
    body = hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()
    files = [photo(10 + i, kind=k) for i, k in enumerate(("before", "after", "snapshot"))]
    worker = w.actor("worker")
    with w.session() as s, s.begin():
        return ingest.ingest(
            s,
            w.policy,
            key=key or str(rec["id"]),
            body_sha256=body,
            record=rec,
            files=files,
            actor=worker,
            now=w.clock(),
        )


def _take(w: World, case_id: int, name: str, who: str, sink: object = None, **data: object) -> None:
    actor = w.actor(who)
    with w.session() as s, s.begin():
        cases.take(
            s,
            w.policy,
            case_id,
            name,
            actor=actor,
            data=TransitionInput(**data),  # type: ignore[arg-type]
            now=w.clock(),
            review_sink=sink,
        )  # type: ignore[arg-type]


def _case(w: World, case_id: int) -> Case:
    with w.session() as s:
        c = s.get(Case, case_id)
        assert c is not None
        return c


def test_camera_case_from_detection_to_closure(world: World, tmp_path: Path) -> None:
    w = world
    sink = FolderReviewSink(tmp_path / "evidence", TZ)
    first = _ingest(w, detection(1))
    assert first.opened and not first.repeat and first.case_id is not None
    cid = first.case_id
    c = _case(w, cid)
    assert (c.stage, c.source, c.deadline_at) == ("report", "camera", None)
    assert c.target_at == w.clock() + dt.timedelta(days=7)

    w.clock.advance(hours=2)
    _take(w, cid, "confirm", "operator", sink, label="building_extension")
    c = _case(w, cid)
    assert c.stage == "determine" and c.label == "building_extension"
    assert c.deadline_at == w.clock() + dt.timedelta(days=2)
    review = json.loads(next((tmp_path / "evidence" / "cam1").glob("*/review.json")).read_text())
    assert review["decision"] == "confirmed" and review["label"] == "building_extension"
    assert review["reviewer"] == "operator" and review["reviewed_at"].endswith("+08:00")

    w.clock.advance(days=1)
    _take(w, cid, "rule_illegal", "determiner", comment="未批先建")
    assert _case(w, cid).deadline_at == w.clock() + dt.timedelta(days=3)
    w.clock.advance(days=2)
    _take(w, cid, "rectified", "rectifier", area_m2=86.5, files=(photo(2),))
    assert _case(w, cid).stage == "verify"

    gone = _ingest(w, detection(1, (102, 99, 201, 181), event="gone") | {"id": "g" * 16})
    assert gone.case_id == cid and not gone.opened
    assert _case(w, cid).camera_gone_at == w.clock()

    w.clock.advance(days=1)
    _take(w, cid, "verified", "supervisor", comment="现场已拆除")
    c = _case(w, cid)
    assert (c.stage, c.outcome, c.demolished_m2) == ("closed", Outcome.DEMOLISHED, 86.5)
    assert c.closed_at == w.clock()
    with w.session() as s:
        kinds = [
            e.kind
            for e in s.scalars(
                sa.select(CaseEvent).where(CaseEvent.case_id == cid).order_by(CaseEvent.id)
            )
        ]
        runs = s.scalars(sa.select(StageRun).where(StageRun.case_id == cid)).all()
        ev = s.scalars(sa.select(Evidence).where(Evidence.case_id == cid)).all()
    assert kinds == [
        "opened",
        "transition",
        "transition",
        "transition",
        "camera_gone",
        "transition",
    ]
    assert sorted(r.stage for r in runs) == ["determine", "rectify", "verify"]
    assert all(r.ended_at is not None and r.ended_at <= r.deadline_at for r in runs)
    assert {e.kind for e in ev} == {"before", "after", "snapshot", "photo"}


def test_manual_report_lifecycle_and_rule_legal(world: World) -> None:
    w = world
    inspector = w.actor("inspector")
    with w.session() as s, s.begin():
        unit = unit_by_ref(s, "南屿镇/旗山村")
        c = cases.report_case(
            s,
            w.policy,
            actor=inspector,
            now=w.clock(),
            unit=unit,
            photos=[photo(1)],
            lon=119.2,
            lat=26.03,
            accuracy_m=8.0,
            description="村口新搭铁皮棚",
        )
        cid = c.id
    assert _case(w, cid).source == "manual"
    _take(w, cid, "confirm", "inspector")
    with pytest.raises(Refusal) as err:
        _take(w, cid, "rule_legal", "determiner", comment="有规划许可证")
    assert err.value.code == "missing_field" and "file" in err.value.reason
    _take(
        w,
        cid,
        "rule_legal",
        "determiner",
        comment="有规划许可证",
        files=(photo(3, "application/pdf", "document"),),
    )
    c = _case(w, cid)
    assert (c.stage, c.outcome) == ("closed", Outcome.NOT_ILLEGAL)


def test_reject_sends_back_and_restarts_the_rectify_deadline(world: World) -> None:
    w = world
    cid = _ingest(w, detection(1)).case_id
    assert cid is not None
    _take(w, cid, "confirm", "operator")
    _take(w, cid, "rule_illegal", "determiner")
    w.clock.advance(days=1)
    _take(w, cid, "rectified", "rectifier", area_m2=40.0, files=(photo(2),))
    w.clock.advance(days=1)
    with pytest.raises(Refusal, match="reason"):
        _take(w, cid, "reject", "supervisor")
    _take(w, cid, "reject", "supervisor", reason="仍有残留")
    c = _case(w, cid)
    assert c.stage == "rectify" and c.deadline_at == w.clock() + dt.timedelta(days=3)
    w.clock.advance(days=1)
    _take(w, cid, "rectified", "rectifier", area_m2=45.0, files=(photo(4),))
    _take(w, cid, "verified", "supervisor")
    c = _case(w, cid)
    assert c.demolished_m2 == 45.0 and c.stage == Stage.CLOSED
    with w.session() as s:
        runs = s.scalars(
            sa.select(StageRun)
            .where(StageRun.case_id == cid, StageRun.stage == "rectify")
            .order_by(StageRun.run)
        ).all()
    assert [r.run for r in runs] == [1, 2] and runs[1].started_at > runs[0].started_at


def test_duplicate_detection_attaches_and_repeats_create_nothing(world: World) -> None:
    w = world
    first = _ingest(w, detection(1))
    again = _ingest(w, detection(1))
    assert again.repeat and again.body() == first.body()
    other_body = detection(1) | {"score": 0.5}
    with pytest.raises(Refusal) as err:
        _ingest(w, other_body, key=str(detection(1)["id"]))
    assert err.value.code == "conflict"
    w.clock.advance(hours=3)
    near = _ingest(w, detection(2, (105, 98, 204, 182)))  # the same shed, seen again
    assert near.case_id == first.case_id and not near.opened
    far = _ingest(w, detection(3, (400, 200, 500, 300)))  # another structure
    assert far.opened and far.case_id != first.case_id
    with w.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Detection)) == 3
        assert s.scalar(sa.select(sa.func.count()).select_from(Case)) == 2
        attached = s.scalars(sa.select(CaseEvent).where(CaseEvent.kind == EventKind.ATTACHED)).all()
    assert [e.case_id for e in attached] == [first.case_id]
    # a worker of another town may neither send nor replay this camera's detections
    foreign = Actor(None, "w2", frozenset({(Role.WORKER, "闽侯县/上街镇")}))
    for rec in (detection(1), detection(4, (600, 300, 700, 400))):
        with pytest.raises(Refusal) as err, w.session() as s, s.begin():
            body = hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()
            ingest.ingest(
                s,
                w.policy,
                key=str(rec["id"]),
                body_sha256=body,
                record=rec,
                files=[],
                actor=foreign,
                now=w.clock(),
            )
        assert err.value.code == "foreign_unit"


def test_dismiss_writes_a_review_json_for_dataset_build(world: World, tmp_path: Path) -> None:
    """The server's copy of the folder is complete enough for ``sitewatch dataset build``."""
    import numpy as np
    from PIL import Image

    from detector.training.evidence import read_reviewed

    w = world
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    Image.fromarray(np.full((360, 640, 3), 90, np.uint8)).save(blobs / "frame.jpg")
    rec = detection(1)
    body = hashlib.sha256(json.dumps(rec).encode()).hexdigest()
    frame = photo(7, kind="frame")
    worker = w.actor("worker")
    with w.session() as s, s.begin():
        cid = ingest.ingest(
            s,
            w.policy,
            key="k1",
            body_sha256=body,
            record=rec,
            files=[frame],
            actor=worker,
            now=w.clock(),
        ).case_id
    assert cid is not None
    root = tmp_path / "evidence"
    sink = FolderReviewSink(root, TZ, blob_path=lambda key: blobs / "frame.jpg")
    with pytest.raises(Refusal, match="reason"):
        _take(w, cid, "dismiss", "operator", sink)
    _take(w, cid, "dismiss", "operator", sink, reason="停放的货车")
    assert _case(w, cid).outcome == Outcome.DISMISSED
    folder = next((root / "cam1").iterdir())
    assert folder.name.startswith("20261130T090000-yard-")  # the site's time zone
    review = json.loads((folder / "review.json").read_text(encoding="utf-8"))
    assert review["decision"] == "dismissed" and review["reason"] == "停放的货车"
    sample = read_reviewed(folder, ["steel_roof_shed"])
    assert sample.decision == "dismissed" and list(sample.boxes) == []


def test_an_opened_case_writes_its_evidence_and_audit_entry_with_it(world: World) -> None:
    """On PostgreSQL one statement opens the case with its evidence rows and audit entry
    (the first entry of an empty chain is appended on its own): the same rows as SQLite's
    statement-by-statement path, and a chain that verifies."""
    from models import audit
    from models.tables import AuditEntry

    w = world
    results = [_ingest(w, detection(n, (100 * n, 50, 100 * n + 60, 90))) for n in (1, 2)]
    with pytest.raises(Refusal) as err:
        _ingest(w, detection(3, camera="nosuchcam"))
    assert err.value.code == "invalid_field" and "nosuchcam" in err.value.reason
    with w.session() as s:
        for r in results:
            assert r.opened and r.case_id is not None
            opened = s.scalars(
                sa.select(CaseEvent).where(
                    CaseEvent.case_id == r.case_id, CaseEvent.kind == EventKind.OPENED
                )
            ).one()
            rows = s.scalars(sa.select(Evidence).where(Evidence.case_id == r.case_id)).all()
            got = sorted(
                (e.kind, e.sha256, e.media_type, e.size, e.storage_key, e.name) for e in rows
            )
            files = [photo(10 + i, kind=k) for i, k in enumerate(("before", "after", "snapshot"))]
            want = sorted(
                (f.kind, f.sha256, f.media_type, f.size, f.storage_key, f.name) for f in files
            )
            assert got == want
            assert {(e.event_id, e.detection_id, e.created_at) for e in rows} == {
                (opened.id, r.detection_id, w.clock())
            }
        entries = s.scalars(sa.select(AuditEntry).order_by(AuditEntry.seq)).all()
        opens = [e for e in entries if e.action == "case.open"]
        assert [e.entity_id for e in opens] == [str(r.case_id) for r in results]
        assert opens[1].parsed()["after"]["unit"] == "闽侯县/南屿镇/旗山村"
        assert audit.verify(s).ok

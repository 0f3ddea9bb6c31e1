"""Random action sequences by random users (hypothesis stateful testing) keep the workflow's
invariants: one stage at a time, no case lost, no transition a role may not take, one
accountability record per missed deadline. The oracle here is written independently of
models.workflow, from the district's table in DESIGN.md."""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy.engine import Engine

from models import cases, ingest, scheduler
from models.access import unit_by_ref
from models.tables import Accountability, Base, Case, StageRun
from models.workflow import Refusal, TransitionInput
from sitewatch.db import make_engine
from tests.models.conftest import PEOPLE, SPEC, T0, Clock, World, detection, make_policy, photo

# stage → transition → (roles, next stage); deadlines in calendar days
ORACLE = {
    "report": {
        "confirm": ({"operator", "inspector"}, "determine"),
        "dismiss": ({"operator"}, "closed"),
    },
    "determine": {
        "rule_illegal": ({"determiner"}, "rectify"),
        "rule_legal": ({"determiner"}, "closed"),
    },
    "rectify": {"rectified": ({"rectifier"}, "verify")},
    "verify": {"verified": ({"supervisor"}, "closed"), "reject": ({"supervisor"}, "rectify")},
    "closed": {},
}
DAYS = {"determine": 2, "rectify": 3, "verify": 2}
NAMES = [t for ts in ORACLE.values() for t in ts] + ["approve"]
FULL = {
    "dismiss": TransitionInput(reason="阴影"),
    "rule_legal": TransitionInput(comment="许可", files=(photo(1, "application/pdf", "document"),)),
    "rectified": TransitionInput(area_m2=12.5, files=(photo(2),)),
    "reject": TransitionInput(reason="未拆净"),
}


def may(user: str, case_unit: str, roles: set[str]) -> bool:
    _, role, unit = next(p for p in PEOPLE if p[0] == user)
    full = "闽侯县" + (f"/{unit}" if unit else "")
    return role.value in roles and (case_unit == full or case_unit.startswith(full + "/"))


class Workflow(RuleBasedStateMachine):
    engine: Engine

    @initialize()
    def setup(self) -> None:
        Base.metadata.drop_all(self.engine)
        Base.metadata.create_all(self.engine)
        self.w = World(self.engine, make_policy(), Clock(T0))
        from models.sync import sync_site
        from models.users import create_user

        with self.w.session() as s, s.begin():
            sync_site(s, SPEC, now=self.w.clock())
            for name, role, unit in PEOPLE:
                u = unit_by_ref(s, unit or "闽侯县")
                self.w.users[name] = create_user(s, name, now=self.w.clock(), roles=((role, u),)).id
        self.actors = {n: self.w.actor(n) for n in self.w.users}
        self.cases: dict[
            int, dict[str, object]
        ] = {}  # id → {stage, unit, runs: [(stage, start, end)]}
        self.n = 0

    @rule(camera=st.sampled_from(["cam1", "cam2"]), slot=st.integers(0, 3))
    def detect(self, camera: str, slot: int) -> None:
        self.n += 1
        rec = detection(
            self.n,
            (10 + 150 * slot, 10, 120 + 150 * slot, 90),
            camera=camera,
            zone="yard" if camera == "cam1" else "field",
        )
        body = hashlib.sha256(repr(rec).encode()).hexdigest()
        with self.w.session() as s, s.begin():
            r = ingest.ingest(
                s,
                self.w.policy,
                key=f"k{self.n}",
                body_sha256=body,
                record=rec,
                files=[],
                actor=self.actors["worker"],
                now=self.w.clock(),
            )
        if r.opened:
            unit = "闽侯县/南屿镇/旗山村" if camera == "cam1" else "闽侯县/上街镇/榕桥村"
            self.cases[r.case_id or 0] = {"stage": "report", "unit": unit, "runs": []}
        else:
            assert r.case_id in self.cases and self.cases[r.case_id]["stage"] != "closed"

    @rule(user=st.sampled_from(["inspector", "inspector2", "operator"]))
    def report(self, user: str) -> None:
        ref = "南屿镇/旗山村" if user != "inspector2" else "上街镇/榕桥村"
        try:
            with self.w.session() as s, s.begin():
                c = cases.report_case(
                    s,
                    self.w.policy,
                    actor=self.actors[user],
                    now=self.w.clock(),
                    unit=unit_by_ref(s, ref),
                    photos=[photo(3)],
                    lon=119.2,
                    lat=26.0,
                )
                cid = c.id
        except Refusal:
            assert user == "operator"
            return
        assert user != "operator"
        self.cases[cid] = {"stage": "report", "unit": f"闽侯县/{ref}", "runs": []}

    @rule(data=st.data())
    def progress(self, data: st.DataObject) -> None:
        """A step the oracle allows, so that cases travel the whole way."""
        open_cases = sorted(c for c, v in self.cases.items() if v["stage"] != "closed")
        if not open_cases:
            return
        cid = data.draw(st.sampled_from(open_cases))
        c = self.cases[cid]
        moves = [
            (n, p[0])
            for n, (roles, _) in ORACLE[str(c["stage"])].items()
            for p in PEOPLE
            if may(p[0], str(c["unit"]), roles)
        ]
        if not moves:  # nobody in that town holds the role (上街镇 has no rectifier)
            return
        name, user = data.draw(st.sampled_from(moves))
        self._try(cid, name, user, True)

    @rule(
        data=st.data(),
        name=st.sampled_from(NAMES),
        user=st.sampled_from([p[0] for p in PEOPLE]),
        complete=st.booleans(),
    )
    def attempt(self, data: st.DataObject, name: str, user: str, complete: bool) -> None:
        """Anything by anyone: refused exactly when the oracle says no."""
        if self.cases:
            self._try(data.draw(st.sampled_from(sorted(self.cases))), name, user, complete)

    def _try(self, cid: int, name: str, user: str, complete: bool) -> None:
        c = self.cases[cid]
        entry = ORACLE[str(c["stage"])].get(name)
        needs_fields = name in FULL
        ok = (
            entry is not None
            and may(user, str(c["unit"]), entry[0])
            and (complete or not needs_fields)
        )
        payload = FULL.get(name, TransitionInput()) if complete else TransitionInput()
        try:
            with self.w.session() as s, s.begin():
                cases.take(
                    s,
                    self.w.policy,
                    cid,
                    name,
                    actor=self.actors[user],
                    data=payload,
                    now=self.w.clock(),
                )
        except Refusal as exc:
            assert not ok, f"{user} was refused {name} on case {cid} in {c['stage']}: {exc.reason}"
            return
        assert ok and entry is not None, f"{user} took {name} on case {cid} in {c['stage']}"
        runs: list[list[object]] = c["runs"]  # type: ignore[assignment]
        if runs and runs[-1][2] is None:
            runs[-1][2] = self.w.clock()
        c["stage"] = entry[1]
        if entry[1] in DAYS:
            runs.append([entry[1], self.w.clock(), None])

    @rule(hours=st.integers(1, 60))
    def wait(self, hours: int) -> None:
        self.w.clock.advance(hours=hours)

    @rule()
    def scan(self) -> None:
        with self.w.session() as s, s.begin():
            scheduler.scan_overdue(s, now=self.w.clock())
        expected = 0
        for c in self.cases.values():
            for stage, start, end in c["runs"]:  # type: ignore[attr-defined]
                deadline = start + dt.timedelta(days=DAYS[stage])
                expected += (end or self.w.clock()) > deadline
        with self.w.session() as s:
            got = s.scalar(sa.select(sa.func.count()).select_from(Accountability))
            dupes = s.scalar(
                sa.select(sa.func.count()).select_from(
                    sa.select(Accountability.stage_run_id)
                    .group_by(Accountability.stage_run_id)
                    .having(sa.func.count() > 1)
                    .subquery()
                )
            )
        assert got == expected and dupes == 0

    @invariant()
    def one_stage_at_a_time_and_no_case_lost(self) -> None:
        if not hasattr(self, "w"):
            return
        with self.w.session() as s:
            rows = {c.id: c.stage for c in s.scalars(sa.select(Case))}
            open_runs = s.execute(
                sa.select(StageRun.case_id, StageRun.stage).where(StageRun.ended_at.is_(None))
            ).all()
        assert rows == {cid: c["stage"] for cid, c in self.cases.items()}
        per_case: dict[int, list[str]] = {}
        for cid, stage in open_runs:
            per_case.setdefault(cid, []).append(stage)
        for cid, stage in rows.items():
            assert per_case.get(cid, []) == ([stage] if stage in DAYS else [])


def test_random_sequences_keep_the_invariants(db_url: str) -> None:
    engine = make_engine(db_url)
    Workflow.engine = engine
    try:
        run_state_machine_as_test(
            Workflow,
            settings=settings(
                max_examples=15,
                stateful_step_count=40,
                deadline=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    finally:
        engine.dispose()

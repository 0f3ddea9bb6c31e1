"""Each event queues exactly the expected inbox messages to the expected users, once."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from models import notify
from models.access import unit_by_ref
from models.cases import open_case, take
from models.enums import Source
from models.tables import Notification, User
from models.workflow import TransitionInput
from tests.models.conftest import TZ, World, photo

POLICY = notify.NotifyPolicy(public_url="https://sw.example", tz=TZ)


def _scan(w: World) -> int:
    with w.session() as s, s.begin():
        return notify.scan(s, POLICY, now=w.clock())


def _messages(w: World) -> list[tuple[str, str]]:
    with w.session() as s:
        rows = s.execute(
            sa.select(Notification.kind, User.name)
            .join(User, User.id == Notification.user_id)
            .order_by(Notification.id)
        ).all()
    return [(k, n) for k, n in rows]


def _open(w: World) -> int:
    with w.session() as s, s.begin():
        case = open_case(s, w.policy, actor=w.actor("worker"), now=w.clock(),
                         source=Source.CAMERA, unit=unit_by_ref(s, "南屿镇/旗山村"))  # fmt: skip
        return case.id


def _take(w: World, cid: int, name: str, who: str, **kw: object) -> None:
    with w.session() as s, s.begin():
        take(s, w.policy, cid, name, actor=w.actor(who), data=TransitionInput(**kw),  # type: ignore[arg-type]
             now=w.clock())  # fmt: skip


def test_stage_entries_and_reject_reach_the_role_of_the_unit_and_nobody_else(world: World) -> None:
    cid = _open(world)
    assert _scan(world) == 1
    assert _messages(world) == [("stage", "operator")]  # not operator2 (上街镇)
    assert _scan(world) == 0  # a second scan queues nothing again
    _take(world, cid, "confirm", "operator")
    world.clock.advance(hours=1)
    _take(world, cid, "rule_illegal", "determiner")
    _take(world, cid, "rectified", "rectifier", area_m2=12.0, files=(photo(),))
    _take(world, cid, "reject", "supervisor", reason="还有残留")
    assert _scan(world) == 4
    assert _messages(world)[1:] == [
        ("stage", "determiner"),
        ("stage", "rectifier"),
        ("stage", "supervisor"),
        ("reject", "rectifier"),
    ]
    with world.session() as s:
        rej = s.scalars(sa.select(Notification).where(Notification.kind == "reject")).one()
        assert rej.link == f"https://sw.example/cases/{cid}"
        assert "还有残留" in rej.body and "南屿镇/旗山村" in rej.body and f"#{cid}" in rej.body
        uid = world.users["rectifier"]
        assert notify.unread_count(s, uid) == 2
        assert notify.mark_read(s, uid, rej.id, world.clock())
        assert not notify.mark_read(s, world.users["supervisor"], rej.id, world.clock())
        assert notify.unread_count(s, uid) == 1


def test_reminders_at_each_offset_once(world: World) -> None:
    cid = _open(world)
    _take(world, cid, "confirm", "operator")  # determine: due in 2 days
    deadline = world.clock() + dt.timedelta(days=2)
    _scan(world)
    seen = len(_messages(world))
    reminders = []
    for _ in range(2 * 24 * 4):  # every 15 minutes through the two days
        world.clock.advance(minutes=15)
        if _scan(world):
            reminders.append(world.clock())
    assert [deadline - r for r in reminders] == [dt.timedelta(hours=24), dt.timedelta(hours=4)]
    with world.session() as s:
        rows = s.scalars(sa.select(Notification).where(Notification.kind == "soon")).all()
        assert sorted(r.event.rsplit(":", 1)[1] for r in rows) == ["14400", "86400"]
        assert {r.user_id for r in rows} == {world.users["determiner"]}
    assert len(_messages(world)) == seen + 2


def test_two_schedulers_at_once_queue_each_message_once(world: World) -> None:
    import threading

    for _ in range(3):
        cid = _open(world)
        _take(world, cid, "confirm", "operator")
    world.clock.advance(hours=44, minutes=30)  # within 4 h of the determine deadlines
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with world.session() as s, s.begin():
                barrier.wait(timeout=10)
                counts.append(notify.scan(s, POLICY, now=world.clock()))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    msgs = _messages(world)
    assert sum(counts) == len(msgs) == 3 * 3  # 3 × (operator, determiner, one reminder)
    assert sorted(msgs) == sorted([("stage", "operator"), ("stage", "determiner"),
                                   ("soon", "determiner")] * 3)  # fmt: skip


def test_missed_deadline_and_missed_checkin_reach_role_office_inspectors_and_town(
    world: World,
) -> None:
    from models.scheduler import scan_checkins, scan_overdue

    cid = _open(world)
    _take(world, cid, "confirm", "operator")
    _scan(world)
    world.clock.advance(days=2, hours=1)  # past the determine deadline and 18:00 cut-offs
    with world.session() as s, s.begin():
        scan_overdue(s, now=world.clock())
        scan_checkins(s, world.policy, now=world.clock())
    before = len(_messages(world))
    _scan(world)
    _scan(world)
    new = _messages(world)[before:]
    missed = sorted(n for k, n in new if k == "missed")
    assert missed == ["determiner", "office"]
    checkin = [n for k, n in new if k == "checkin"]
    # Tuesday's check-in missed by all 3 villages: each its inspectors and its town's roles
    town = ["determiner", "operator", "rectifier", "supervisor"]
    town2 = ["determiner2", "operator2"]
    assert sorted(checkin) == sorted(["inspector", *town, *town, "inspector2", *town2])
    with world.session() as s:
        urgent = s.scalars(sa.select(Notification.urgent).where(Notification.kind == "missed"))
        assert all(urgent)


def test_camera_offline_longer_than_offline_after_reaches_admins_and_operators(
    world: World,
) -> None:
    from models.tables import Camera

    def beat(state: str) -> None:
        with world.session() as s, s.begin():
            cam = s.get(Camera, "cam1")
            assert cam is not None
            cam.state, cam.last_heartbeat_at = state, world.clock()
            cam.last_frame_at = world.clock() if state == "online" else cam.last_frame_at

    beat("online")
    _scan(world)
    world.clock.advance(seconds=60)
    beat("offline")  # offline, but the last frame is only 60 s old
    assert _scan(world) == 0
    world.clock.advance(seconds=61)
    beat("offline")
    assert _scan(world) == 2
    assert sorted(_messages(world)) == [("offline", "admin"), ("offline", "operator")]
    world.clock.advance(minutes=10)
    beat("offline")
    assert _scan(world) == 0  # the same outage: once

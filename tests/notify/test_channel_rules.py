"""The rules with channels configured: which channel messages each event queues (group
robots once per event, e-mail per recipient with an address), quiet hours, digests, and
reminder offsets and ``offline_after`` taken from the policy."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import sqlalchemy as sa

from api.notify.sender import deliver_due
from models import notify
from models.tables import Notification, User
from tests.models.conftest import TZ, World
from tests.notify.test_rules import _open, _take

ROBOT = notify.ChannelRule("robot", "dingtalk", frozenset({"stage", "missed"}),
                           quiet=(dt.time(22), dt.time(7)))  # fmt: skip
MAIL = notify.ChannelRule("mail", "email", digest=True)
POLICY = notify.NotifyPolicy(public_url="https://sw.example", tz=TZ, channels=(ROBOT, MAIL))


def _scan(w: World, policy: notify.NotifyPolicy = POLICY) -> int:
    with w.session() as s, s.begin():
        return notify.scan(s, policy, now=w.clock())


def _channel_rows(w: World) -> list[Notification]:
    with w.session() as s:
        return list(
            s.scalars(
                sa.select(Notification)
                .where(Notification.channel != notify.INBOX)
                .order_by(Notification.id)
            )
        )


def _emails(w: World) -> None:
    with w.session() as s, s.begin():
        notify.set_email(s, w.users["determiner"], "det@example.org")
        notify.set_email(s, w.users["rectifier"], "rect@example.org", enabled=False)
        s.get(User, w.users["determiner"]).language = "en"  # type: ignore[union-attr]


def _names(w: World) -> dict[int | None, str]:
    return {v: k for k, v in w.users.items()} | {None: "group"}


def test_each_event_queues_the_expected_channel_messages_and_no_others(world: World) -> None:
    _emails(world)
    cid = _open(world)
    _take(world, cid, "confirm", "operator")
    world.clock.advance(minutes=5)
    _take(world, cid, "rule_illegal", "determiner")
    assert _scan(world) == 3 + 3 + 1  # inbox: operator, determiner, rectifier
    _scan(world)  # again: nothing new
    names = _names(world)
    rows = _channel_rows(world)
    got = sorted((r.channel, names[r.user_id], r.kind, r.facts["stage"]) for r in rows)
    assert got == [
        ("mail", "determiner", "stage", "determine"),  # operator/rectifier: no e-mail
        ("robot", "group", "stage", "determine"),
        ("robot", "group", "stage", "rectify"),
        ("robot", "group", "stage", "report"),
    ]
    mail = next(r for r in rows if r.channel == "mail")
    assert mail.address == "det@example.org" and mail.language == "en"
    want = f"Case #{cid} entered determine: 闽侯县/南屿镇/旗山村, due 2026-12-02 09:00"
    assert mail.body.startswith(want)
    assert mail.link == f"https://sw.example/cases/{cid}"
    robot = next(r for r in rows if r.facts["stage"] == "rectify")
    assert robot.language == "zh" and "拆除整治" in robot.body and f"#{cid}" in robot.body


def test_quiet_hours_hold_robot_messages_until_morning_but_not_missed_deadlines(
    world: World,
) -> None:
    from models.scheduler import scan_overdue

    sent: list[str] = []
    senders = {"robot": lambda row: sent.append(row.kind), "mail": lambda row: None}
    cid = _open(world)  # Monday 09:00
    _take(world, cid, "confirm", "operator")
    _scan(world)
    assert deliver_due(world.engine, senders, now=world.clock()) == (2, 0)  # in the day
    sent.clear()
    world.clock.t = dt.datetime(2026, 12, 2, 23, 0, tzinfo=TZ)  # past the 2-day deadline
    other = _open(world)
    with world.session() as s, s.begin():
        scan_overdue(s, now=world.clock())
    _scan(world)
    rows = {(r.kind, r.case_id, r.facts["stage"]): r for r in _channel_rows(world)
            if r.channel == "robot"}  # fmt: skip
    night = rows[("stage", other, "report")]
    assert night.next_attempt_at == dt.datetime(2026, 12, 3, 7, 0, tzinfo=TZ)
    missed = rows[("missed", cid, "determine")]
    assert missed.urgent and missed.next_attempt_at == world.clock()
    assert deliver_due(world.engine, senders, now=world.clock()) == (1, 0)
    assert sent == ["missed"]
    world.clock.t = dt.datetime(2026, 12, 3, 6, 59, tzinfo=TZ)
    assert deliver_due(world.engine, senders, now=world.clock()) == (0, 0)
    world.clock.t = dt.datetime(2026, 12, 3, 7, 0, tzinfo=TZ)
    assert deliver_due(world.engine, senders, now=world.clock()) == (1, 0)
    assert sent == ["missed", "stage"]


def test_digest_combines_a_recipients_messages_into_one_per_hour(world: World) -> None:
    _emails(world)
    world.clock.t = dt.datetime(2026, 11, 30, 10, 5, tzinfo=TZ)
    cases = []
    for _ in range(3):
        cid = _open(world)
        _take(world, cid, "confirm", "operator")
        cases.append(cid)
        _scan(world)
        world.clock.advance(minutes=10)
    mails = [r for r in _channel_rows(world) if r.channel == "mail"]
    assert len(mails) == 3
    assert {r.next_attempt_at for r in mails} == {dt.datetime(2026, 11, 30, 11, 0, tzinfo=TZ)}
    got: list[Notification] = []
    senders = {"mail": got.append, "robot": lambda row: None}
    deliver_due(world.engine, senders, now=world.clock(), digests={"mail"})  # the robot's
    assert got == []  # 10:35: the mail waits for 11:00
    world.clock.t = dt.datetime(2026, 11, 30, 11, 0, tzinfo=TZ)
    assert deliver_due(world.engine, senders, now=world.clock(), digests={"mail"}) == (3, 0)
    (digest,) = got
    assert digest.address == "det@example.org" and digest.subject == "3 notifications"
    assert [i["case"] for i in digest.facts["items"]] == cases
    assert all(f"#{c}" in digest.body for c in cases)
    world.clock.advance(hours=2)
    assert deliver_due(world.engine, senders, now=world.clock(), digests={"mail"}) == (0, 0)
    with world.session() as s:
        states = Counter(s.scalars(sa.select(Notification.state).where(
            Notification.channel == "mail")))  # fmt: skip
    assert states == {"sent": 3}


def test_configured_reminder_offsets_each_once(world: World) -> None:
    policy = notify.NotifyPolicy(tz=TZ, offsets=(dt.timedelta(hours=12), dt.timedelta(hours=1)))
    cid = _open(world)
    _take(world, cid, "confirm", "operator")
    deadline = world.clock() + dt.timedelta(days=2)
    _scan(world, policy)
    reminders = []
    for _ in range(2 * 24 * 2):
        world.clock.advance(minutes=30)
        with world.session() as s, s.begin():
            soon = notify.scan_deadlines(s, policy, now=world.clock())
        if soon:
            reminders.append(deadline - world.clock())
    assert reminders == [dt.timedelta(hours=12), dt.timedelta(hours=1)]


def test_offline_after_comes_from_the_policy(world: World) -> None:
    from models.tables import Camera

    policy = notify.NotifyPolicy(tz=TZ, offline_after=dt.timedelta(minutes=10),
                                 stale_after=dt.timedelta(minutes=10))  # fmt: skip
    with world.session() as s, s.begin():
        cam = s.get(Camera, "cam1")
        assert cam is not None
        cam.state = "offline"
        cam.last_heartbeat_at = cam.last_frame_at = world.clock()
    world.clock.advance(minutes=5)
    assert _scan(world, policy) == 0  # the default (2 min) would have reported it
    world.clock.advance(minutes=6)
    assert _scan(world, policy) == 2


def test_a_retry_that_would_fall_in_quiet_hours_waits_for_the_morning(world: World) -> None:
    from api.notify.channels import ChannelSettings, NotifySettings

    ns = NotifySettings(channels=(ChannelSettings(name="robot", kind="wecom", url="http://x",
                                                  quiet=(dt.time(22), dt.time(7))),))  # fmt: skip
    world.clock.t = dt.datetime(2026, 11, 30, 21, 59, 45, tzinfo=TZ)
    with world.session() as s, s.begin():
        notify.queue_channel(s, event="e", kind="stage", channel="robot", text="#1",
                             now=world.clock())  # fmt: skip
        notify.queue_channel(s, event="u", kind="missed", channel="robot", text="#2",
                             now=world.clock(), urgent=True)  # fmt: skip

    def down(row: Notification) -> None:
        raise ConnectionError("robot down")

    hold = lambda row, when: ns.hold(row, when, TZ)  # noqa: E731
    assert deliver_due(world.engine, {"robot": down}, now=world.clock(), hold=hold) == (0, 2)
    with world.session() as s:
        due = dict(s.execute(sa.select(Notification.event, Notification.next_attempt_at)).all())
    assert due["e"] == dt.datetime(2026, 12, 1, 7, 0, tzinfo=TZ)  # not at 22:00:15 (30 s later)
    assert due["u"] == world.clock() + dt.timedelta(seconds=30)  # urgent: the plain backoff

"""Every forbidden transition is refused with a clear reason: wrong stage, wrong role,
foreign unit, missing or invalid field — by the plain rules and through the services."""

from __future__ import annotations

import pytest

from models.enums import Role, Source, Stage
from models.workflow import (
    TRANSITIONS,
    Actor,
    CaseFacts,
    FileRef,
    Refusal,
    TransitionInput,
    allowed,
    check,
)

UNIT = "闽侯县/南屿镇/旗山村"
PHOTO = FileRef("a" * 64, "image/jpeg", 10, "k", "photo")
PDF = FileRef("b" * 64, "application/pdf", 10, "k2", "document")


def who(role: Role, unit: str = "闽侯县/南屿镇") -> Actor:
    return Actor(1, role.value, frozenset({(role, unit)}))


GOOD = {
    "confirm": TransitionInput(label="steel_roof_shed"),
    "dismiss": TransitionInput(reason="阴影"),
    "rule_illegal": TransitionInput(),
    "rule_legal": TransitionInput(comment="有许可证", files=(PDF,)),
    "rectified": TransitionInput(area_m2=50.0, files=(PHOTO,)),
    "verified": TransitionInput(),
    "reject": TransitionInput(reason="未拆净"),
}


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_each_transition_only_in_its_stage_and_for_its_roles(name: str) -> None:
    t = TRANSITIONS[name]
    for stage in Stage:
        for role in Role:
            case = CaseFacts(stage, UNIT, Source.CAMERA)
            ok = stage == t.source and role in t.roles
            if ok:
                assert check(name, case, who(role), GOOD[name]) is t
                assert t in allowed(case, who(role))
                continue
            with pytest.raises(Refusal) as err:
                check(name, case, who(role), GOOD[name])
            assert err.value.code == ("wrong_stage" if stage != t.source else "not_permitted")
            assert t not in allowed(case, who(role))


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_a_grant_in_another_town_is_a_foreign_unit(name: str) -> None:
    t = TRANSITIONS[name]
    role = sorted(t.roles)[0]
    case = CaseFacts(t.source, UNIT)
    with pytest.raises(Refusal) as err:
        check(name, case, who(role, "闽侯县/上街镇"), GOOD[name])
    assert err.value.code == "foreign_unit" and "闽侯县/南屿镇/旗山村" in err.value.reason
    # a grant on the district covers every town below it
    assert check(name, case, who(role, "闽侯县"), GOOD[name]) is t
    # a prefix of a name is not a parent (南屿 is not 南屿镇)
    with pytest.raises(Refusal):
        check(name, case, who(role, "闽侯县/南屿"), GOOD[name])


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("dismiss", TransitionInput(), "reason"),
        ("dismiss", TransitionInput(reason="   "), "reason"),
        ("reject", TransitionInput(), "reason"),
        ("rule_legal", TransitionInput(files=(PDF,)), "comment"),
        ("rule_legal", TransitionInput(comment="证明"), "file"),
        ("rectified", TransitionInput(files=(PHOTO,)), "area_m2"),
        ("rectified", TransitionInput(area_m2=20.0), "file"),
        ("rectified", TransitionInput(area_m2=20.0, files=(PDF,)), "image/jpeg"),
    ],
)
def test_missing_fields_are_named(name: str, data: TransitionInput, words: str) -> None:
    t = TRANSITIONS[name]
    with pytest.raises(Refusal) as err:
        check(name, CaseFacts(t.source, UNIT), who(sorted(t.roles)[0]), data)
    assert err.value.code == "missing_field" and words in err.value.reason


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("rectified", TransitionInput(area_m2=-1.0, files=(PHOTO,))),
        ("rectified", TransitionInput(area_m2=float("nan"), files=(PHOTO,))),
        ("rectified", TransitionInput(area_m2=float("inf"), files=(PHOTO,))),
        ("verified", TransitionInput(area_m2=3.0)),
        ("rule_illegal", TransitionInput(label="scaffolding")),
        ("confirm", TransitionInput(comment="x" * 5000)),
    ],
)
def test_invalid_fields_are_refused(name: str, data: TransitionInput) -> None:
    t = TRANSITIONS[name]
    with pytest.raises(Refusal) as err:
        check(name, CaseFacts(t.source, UNIT), who(sorted(t.roles)[0]), data)
    assert err.value.code == "invalid_field"


def test_unknown_transition_and_leaders_take_nothing() -> None:
    with pytest.raises(Refusal) as err:
        check("approve", CaseFacts(Stage.REPORT, UNIT), who(Role.OPERATOR), TransitionInput())
    assert err.value.code == "unknown_transition" and "confirm" in err.value.reason
    for stage in Stage:
        assert allowed(CaseFacts(stage, UNIT), who(Role.LEADER, "闽侯县")) == []
        assert allowed(CaseFacts(stage, UNIT), who(Role.ADMIN, "闽侯县")) == []


def test_admin_and_worker_grants_read_no_cases() -> None:
    mixed = Actor(1, "x", frozenset({(Role.ADMIN, "闽侯县"), (Role.OPERATOR, "闽侯县/上街镇")}))
    assert mixed.reaches(UNIT) and not mixed.sees(UNIT)
    assert mixed.sees("闽侯县/上街镇/榕桥村")
    assert Actor(2, "w", frozenset({(Role.WORKER, "闽侯县")})).sees(UNIT) is False
    assert Actor(3, "l", frozenset({(Role.LEADER, "闽侯县/上街镇")})).sees(UNIT)  # reads everything

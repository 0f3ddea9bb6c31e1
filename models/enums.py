"""The workflow's vocabulary: stages, roles, outcomes, sources, event kinds."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    REPORT = "report"  # 发现报告
    DETERMINE = "determine"  # 快速认定
    RECTIFY = "rectify"  # 拆除整治
    VERIFY = "verify"  # 监督检查
    CLOSED = "closed"


class Role(StrEnum):
    INSPECTOR = "inspector"  # village grid member, property manager: reports, checks in
    OPERATOR = "operator"  # reviews camera detections
    DETERMINER = "determiner"  # land office / construction station
    RECTIFIER = "rectifier"  # demolition lead of a town
    SUPERVISOR = "supervisor"  # town People's Congress chair
    ACCOUNTABILITY = "accountability"  # efficiency office
    LEADER = "leader"  # reads everything
    ADMIN = "admin"  # users, cameras, units
    WORKER = "worker"  # detector workers: ingest only


class Outcome(StrEnum):
    """How a closed case ended."""

    DISMISSED = "dismissed"  # a false detection
    NOT_ILLEGAL = "not_illegal"  # ruled legal, with proof
    DEMOLISHED = "demolished"  # rectified and verified on site


class Source(StrEnum):
    CAMERA = "camera"
    MANUAL = "manual"


class EventKind(StrEnum):
    OPENED = "opened"
    TRANSITION = "transition"
    ATTACHED = "attached"  # another camera detection of the same structure
    CAMERA_GONE = "camera_gone"  # the camera saw the structure disappear


class Resolution(StrEnum):
    """How the efficiency office answers an accountability record."""

    INTERVIEWED = "interviewed"  # 约谈
    SANCTIONED = "sanctioned"  # 问责处理
    WAIVED = "waived"  # 免责


class AccountabilityKind(StrEnum):
    STAGE_OVERDUE = "stage_overdue"
    CHECKIN_MISSED = "checkin_missed"


class CheckinKind(StrEnum):
    ZERO = "zero"  # 零报告: nothing new today
    CASES = "cases"  # today's cases listed


# Who answers for each timed stage (the role that acts in it).
STAGE_ROLE: dict[Stage, Role] = {
    Stage.REPORT: Role.OPERATOR,
    Stage.DETERMINE: Role.DETERMINER,
    Stage.RECTIFY: Role.RECTIFIER,
    Stage.VERIFY: Role.SUPERVISOR,
}

TIMED_STAGES = (Stage.DETERMINE, Stage.RECTIFY, Stage.VERIFY)

"""Names shown for the workflow's codes. The msgids are English; the zh_CN catalogue holds
the Chinese names (those of transitions equal ``models.workflow.TRANSITIONS[...].label``,
which a test checks). ``N_`` only marks a string for extraction."""

from __future__ import annotations


def N_(text: str) -> str:
    return text


STAGES = {
    "report": N_("Report"),
    "determine": N_("Determination"),
    "rectify": N_("Rectification"),
    "verify": N_("Verification"),
    "closed": N_("Closed"),
}
TRANSITIONS = {
    "confirm": N_("Confirm suspected violation"),
    "dismiss": N_("Dismiss as false alarm"),
    "rule_illegal": N_("Rule illegal"),
    "rule_legal": N_("Rule legal"),
    "rectified": N_("Demolition done"),
    "verified": N_("Accept on site"),
    "reject": N_("Send back for rectification"),
}
EVENTS = {
    "opened": N_("Case opened"),
    "attached": N_("Another detection attached"),
    "camera_gone": N_("The camera saw the structure disappear"),
}
SOURCES = {"camera": N_("Camera"), "manual": N_("Field report")}
OUTCOMES = {
    "dismissed": N_("False alarm"),
    "not_illegal": N_("Not illegal"),
    "demolished": N_("Demolished"),
}
ROLES = {
    "inspector": N_("Inspector"),
    "operator": N_("Camera operator"),
    "determiner": N_("Determiner"),
    "rectifier": N_("Demolition lead"),
    "supervisor": N_("Supervisor"),
    "accountability": N_("Efficiency office"),
    "leader": N_("Leader"),
    "admin": N_("Administrator"),
    "worker": N_("Detector worker"),
}
CHECKIN_STATUS = {
    "cases": N_("Reported cases"),
    "zero": N_("Zero report"),
    "missing": N_("Missing"),
}
RECORD_STATUS = {
    "open": N_("Open"),
    "interviewed": N_("Interviewed"),
    "sanctioned": N_("Sanctioned"),
    "waived": N_("Waived"),
}
RECORD_KINDS = {"stage_overdue": N_("Stage overdue"), "checkin_missed": N_("Check-in missed")}
CAMERA_STATES = {
    "online": N_("Online"),
    "reconnecting": N_("Reconnecting"),
    "offline": N_("Offline"),
    "starting": N_("Starting"),
    "away": N_("Away"),
    "stopped": N_("Stopped"),
    "unknown": N_("Unknown"),
}
STRUCTURES = {
    "steel_roof_shed": N_("Steel-roof shed"),
    "building_extension": N_("Building extension"),
    "scaffolding": N_("Scaffolding"),
    "building_materials": N_("Building materials"),
    "construction_machinery": N_("Construction machinery"),
    "other": N_("Other"),
}
DISMISS_REASONS = {
    "shadow": N_("Shadow or light change"),
    "vehicle": N_("Vehicle or person"),
    "existing": N_("Existing approved building"),
    "vegetation": N_("Vegetation"),
    "weather": N_("Weather (rain, fog, snow)"),
    "other": N_("Other"),
}
EVIDENCE = {
    "snapshot": N_("Snapshot"),
    "before": N_("Before"),
    "after": N_("After"),
    "clip": N_("Clip"),
    "photo": N_("Photo"),
    "document": N_("Document"),
    "frame": N_("Frame"),
    "reference": N_("Reference image"),
}

ALL = {
    "stage": STAGES,
    "transition": TRANSITIONS,
    "event": EVENTS,
    "source": SOURCES,
    "outcome": OUTCOMES,
    "role": ROLES,
    "checkin": CHECKIN_STATUS,
    "record": RECORD_STATUS,
    "record_kind": RECORD_KINDS,
    "camera": CAMERA_STATES,
    "structure": STRUCTURES,
    "dismiss": DISMISS_REASONS,
    "evidence": EVIDENCE,
}


def label(kind: str, code: str | None, gettext: object) -> str:
    """The shown name of ``code`` (translated), or the code itself when it has none."""
    text = ALL[kind].get(code or "")
    if text is None:
        return code or "—"
    assert callable(gettext)
    return str(gettext(text))

"""Reasons for config errors: the key, what is allowed, and what the file gave.

pydantic's messages are reworded for people who write YAML: no class names, no Python
reprs, one ``got …`` taken from the file as written (``got yes``, ``got '5'``), a
"did you mean" for a misspelt key and "quote it" for a number or boolean where text is
expected.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from sitewatch.config.yamlread import Given, Loc

_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "is-instance[Path]"}

_EXPECTED = {
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "string_type": "text",
    "bool_type": "true or false",
    "list_type": "a list",
    "tuple_type": "a list",
    "set_type": "a list",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "path_type": "a file or folder path (text)",
    "date_type": "a date such as 2026-10-01",
    "time_type": "a time of day such as 18:00",
    "datetime_type": "a date and time such as 2026-10-01T08:00",
}


def clean_loc(loc: Sequence[str | int]) -> Loc:
    """pydantic inserts validator and union-member names (``function-after[...]``) into loc."""
    return tuple(p for p in loc if isinstance(p, int) or ("[" not in p and p not in _TYPE_TAGS))


def _hint(expected_text: bool, given: Given) -> str:
    if given.kind != "scalar" or not given.plain:
        return ""
    if given.tag == "bool":
        if expected_text:
            return f" (YAML reads {given.text} as a boolean: quote it, '{given.text}')"
        return f" (YAML reads {given.text} as a boolean)"
    if given.tag in {"int", "float"} and expected_text:
        return f" (YAML reads {given.text} as a number: quote it, '{given.text}')"
    return ""


def _unknown_key(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    if close:
        return f"unknown key: did you mean {close[0]!r}?"
    if known:
        return f"unknown key (allowed: {', '.join(known)})"
    return "unknown key"


def _shown(given: Given | None, err: dict[str, Any]) -> str:
    if given is not None:
        return given.shown()
    value = err.get("input")
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    text = str(value)
    return text if len(text) <= 48 else text[:45] + "..."


def reason_for(err: Any, given: Given | None, known: list[str]) -> str:
    """One line for one pydantic error dict, naming what is allowed and what was given."""
    kind = str(err["type"])
    loc = tuple(err["loc"])
    if kind == "extra_forbidden":
        return _unknown_key(str(loc[-1]) if loc else "?", known)
    if kind == "missing":
        if loc and isinstance(loc[-1], int):
            return "too few values in this list"
        return "required key is missing"
    shown = _shown(given, err)
    if kind in _EXPECTED:
        expected = _EXPECTED[kind]
        hint = _hint(kind == "string_type", given) if given is not None else ""
        if kind in {"int_type", "float_type"} and given is not None and given.tag == "str":
            hint = " (text: remove the quotes)" if not given.plain else ""
        if kind == "int_type" and given is not None and given.tag == "float":
            expected = "a whole number (no decimals)"
        return f"expected {expected}, got {shown}{hint}"
    if kind == "literal_error":
        allowed = str((err.get("ctx") or {}).get("expected", "")).replace("'", "")
        return f"expected one of {allowed}, got {shown}"
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    msg = msg.replace("Input should", "must").replace("String should", "must")
    msg = msg.replace("List should", "must").replace("Tuple should", "must")
    msg = msg.replace("Dictionary should", "must").replace(" after validation", "")
    if " got " in msg or msg.endswith(" got") or "(got " in msg or ", not " in msg:
        return msg
    if kind.startswith(("value_error", "assertion_error", "ordered_")) and (
        given is None or given.kind != "scalar" or given.text in msg or repr(given.text) in msg
    ):
        return msg  # our own validators name the value they refuse
    return f"{msg}, got {shown}"

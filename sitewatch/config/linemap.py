"""The line map of a YAML document: for every key and list item, its line and how it was
written (``got yes`` in messages), with the problems a walk over the nodes finds (keys
that are not text, duplicate keys, control characters)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import yaml

Loc = tuple[str | int, ...]

TAG = "tag:yaml.org,2002:"


class NodeProblem(Exception):
    """A problem at ``line`` (1-based); ``path`` is the dotted key when known."""

    def __init__(self, line: int, reason: str, path: str = "") -> None:
        super().__init__(reason)
        self.line, self.reason, self.path = line, reason, path


@dataclass(frozen=True)
class Given:
    """How a value was written in the file."""

    kind: str  # "scalar", "list" or "mapping"
    text: str = ""  # the scalar as written (unescaped), for scalars
    tag: str = ""  # "str", "int", "float", "bool", "null" for scalars
    plain: bool = True  # written without quotes

    def shown(self) -> str:
        if self.kind != "scalar":
            return f"a {self.kind}"
        if self.tag == "null":
            return "nothing (an empty value)" if self.text in {"", "~"} else self.text
        text = self.text if len(self.text) <= 48 else self.text[:45] + "..."
        return text if self.plain and text else repr(text)


class LineMap:
    """Line numbers (and how they were written) of every key and item of one document."""

    def __init__(self, lines: dict[Loc, int], given: dict[Loc, Given]) -> None:
        self._lines = lines
        self._given = given

    def line(self, loc: Loc) -> int:
        for end in range(len(loc), -1, -1):
            hit = self._lines.get(tuple(loc[:end]))
            if hit is not None:
                return hit
        return 1

    def has(self, loc: Loc) -> bool:
        return tuple(loc) in self._lines

    def given(self, loc: Loc) -> Given | None:
        return self._given.get(tuple(loc))


def _scalar_kind(node: yaml.ScalarNode) -> str:
    tag = str(node.tag)
    return tag[len(TAG) :] if tag.startswith(TAG) else tag


def _control(text: str) -> str | None:
    for ch in text:
        if ch not in "\t\n" and unicodedata.category(ch) in {"Cc", "Cs"}:
            return f"U+{ord(ch):04X}"
    return None


def walk(
    node: yaml.Node,
    loc: Loc,
    lines: dict[Loc, int],
    given: dict[Loc, Given],
    problems: list[NodeProblem],
    overwrite: bool = True,
) -> None:
    line = node.start_mark.line + 1
    if overwrite or loc not in lines:
        lines[loc] = line
    if isinstance(node, yaml.ScalarNode):
        kind = _scalar_kind(node)
        if overwrite or loc not in given:
            given[loc] = Given("scalar", str(node.value), kind, not node.style)
        bad = _control(str(node.value))
        if bad is not None:
            problems.append(NodeProblem(line, f"control character {bad} is not allowed in a value"))
        return
    if isinstance(node, yaml.SequenceNode):
        if overwrite or loc not in given:
            given[loc] = Given("list")
        for i, item in enumerate(node.value):
            walk(item, loc + (i,), lines, given, problems, overwrite)
        return
    if isinstance(node, yaml.MappingNode):
        if overwrite or loc not in given:
            given[loc] = Given("mapping")
        _walk_mapping(node, loc, lines, given, problems, overwrite)


def _walk_mapping(
    node: yaml.MappingNode,
    loc: Loc,
    lines: dict[Loc, int],
    given: dict[Loc, Given],
    problems: list[NodeProblem],
    overwrite: bool,
) -> None:
    seen: set[str] = set()
    merges: list[yaml.Node] = []
    for key_node, value_node in node.value:
        key_line = key_node.start_mark.line + 1
        if isinstance(key_node, yaml.ScalarNode) and _scalar_kind(key_node) == "merge":
            seq = isinstance(value_node, yaml.SequenceNode)
            merges.extend(value_node.value if seq else [value_node])
            continue
        if not isinstance(key_node, yaml.ScalarNode) or _scalar_kind(key_node) != "str":
            problems.append(NodeProblem(key_line, _key_problem(key_node)))
            continue
        key = str(key_node.value)
        bad = _control(key)
        if bad is not None:
            problems.append(
                NodeProblem(key_line, f"control character {bad} is not allowed in a key")
            )
        sub = loc + (key,)
        if key in seen:
            problems.append(NodeProblem(key_line, "duplicate key", _fmt(sub)))
        seen.add(key)
        had = sub in lines
        walk(value_node, sub, lines, given, problems, overwrite)
        if overwrite or not had:
            # a key's own line beats its value's first line (``key:`` then an indented block)
            lines[sub] = key_line
    for merged in merges:
        if isinstance(merged, yaml.MappingNode):
            _walk_mapping(merged, loc, lines, given, problems, False)


def _key_problem(key_node: yaml.Node) -> str:
    if not isinstance(key_node, yaml.ScalarNode):
        return "a key must be a plain word, not a list or mapping"
    kind = {"int": "a number", "float": "a number", "bool": "a boolean", "null": "empty"}.get(
        _scalar_kind(key_node), f"a {_scalar_kind(key_node)}"
    )
    text = str(key_node.value)
    return f"key {text or '(empty)'} is {kind} in YAML: keys are text, quote it ('{text}')"


def _fmt(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out

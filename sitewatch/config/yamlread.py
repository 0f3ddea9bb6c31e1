"""Read a site YAML safely: bounded in size, depth and alias expansion, with a line per key.

PyYAML's safe loader is kept for the grammar, with four changes for hostile files:

- limits: the file's size, the nesting depth and the number of nodes once aliases are
  expanded (a "billion laughs" file is refused after a few hundred nodes of work, and
  a self-referencing anchor is refused instead of looping);
- scalars as a config author means them: no sexagesimal numbers (``18:00`` stays
  text), no implicit timestamps (dates stay text; the schema parses them), floats in
  exponent form (``1e-3``) are numbers, integers are at most ~30 digits, ``.inf`` and
  ``.nan`` are refused;
- ``!!binary``, ``!!set``, ``!!omap``, ``!!pairs``, ``!!timestamp`` and unknown tags are
  refused;
- keys must be text, no value holds a control character, and nothing is reported at
  line 1 when the line is known (invalid UTF-8, control characters, bad tags).

:func:`read_yaml` returns the data and a :class:`LineMap` with, for every key and list
item, its line and how it was written (for messages such as ``got yes``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from sitewatch.config.linemap import TAG, Given, LineMap, Loc, NodeProblem, walk

__all__ = ["Given", "LineMap", "Loc", "ReadError", "ReadErrors", "read_yaml"]

MAX_BYTES = 512_000
MAX_DEPTH = 40
MAX_NODES = 100_000
MAX_INT_DIGITS = 30


ReadError = NodeProblem
"""One problem that stops reading: ``line`` (1-based) and ``reason``."""

_TAG = TAG
_INT_RE = r"^(?:[-+]?(?:0|[1-9][0-9_]*)|0[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+)$"
_FLOAT_RE = (
    r"^(?:[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+"
    r"|[-+]?[0-9][0-9_]*\.[0-9_]*"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)


_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ~10x faster


class StrictLoader(_Base):
    """PyYAML's safe loader with the limits and scalar rules described above."""

    yaml_implicit_resolvers: ClassVar[dict[Any, Any]] = {}
    yaml_constructors: ClassVar[dict[Any, Any]] = dict(yaml.SafeLoader.yaml_constructors)
    # with libyaml, compose_node below is not called: size comes from MAX_BYTES and
    # depth and expansion from _check_graph (flow depth from _check_flow_depth)

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise ComposerError(None, None, f"nested deeper than {MAX_DEPTH} levels", mark)
            if self._nodes > MAX_NODES:
                mark = self.peek_event().start_mark
                raise ComposerError(None, None, f"more than {MAX_NODES} values", mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: Any) -> int:
        digits = sum(c.isdigit() for c in node.value)
        if digits > MAX_INT_DIGITS:
            raise ConstructorError(
                None, None, f"a number with {digits} digits is too large", node.start_mark
            )
        return int(super().construct_yaml_int(node))

    def construct_yaml_float(self, node: Any) -> float:
        value = float(super().construct_yaml_float(node))
        if value != value or value in (float("inf"), float("-inf")):
            raise ConstructorError(
                None, None, f"{node.value} is not a finite number", node.start_mark
            )
        return value

    def refuse_tag(self, node: Any) -> None:
        tag = str(node.tag).replace(_TAG, "!!")
        raise ConstructorError(
            None, None, f"YAML tag {tag} is not allowed in a site file", node.start_mark
        )


StrictLoader.add_implicit_resolver(
    _TAG + "bool",
    re.compile(r"^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$"),
    list("yYnNtTfFoO"),
)
StrictLoader.add_implicit_resolver(
    _TAG + "null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
StrictLoader.add_implicit_resolver(_TAG + "int", re.compile(_INT_RE), list("-+0123456789"))
StrictLoader.add_implicit_resolver(_TAG + "float", re.compile(_FLOAT_RE), list("-+0123456789."))
StrictLoader.add_implicit_resolver(_TAG + "merge", re.compile(r"^(?:<<)$"), ["<"])
StrictLoader.add_constructor(_TAG + "int", StrictLoader.construct_yaml_int)
StrictLoader.add_constructor(_TAG + "float", StrictLoader.construct_yaml_float)
for _name in ("binary", "set", "omap", "pairs", "timestamp"):
    StrictLoader.add_constructor(_TAG + _name, StrictLoader.refuse_tag)
StrictLoader.add_constructor(None, StrictLoader.refuse_tag)


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ReadError(1, "file is UTF-16: save it as UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = raw[exc.start]
        raise ReadError(line, f"not UTF-8: byte 0x{byte:02x} at column {col}") from None
    return text.removeprefix("\ufeff")


def _read_bytes(path: Path) -> bytes:
    if path.exists() and not path.is_file() and not path.is_dir():
        raise ReadError(1, "not a regular file (a device, pipe or socket)")
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ReadError(1, "file not found") from None
    except IsADirectoryError:
        raise ReadError(1, "is a folder, not a file") from None
    except PermissionError:
        raise ReadError(1, "cannot read the file: permission denied") from None
    except OSError as exc:
        raise ReadError(1, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise ReadError(1, f"file is larger than {MAX_BYTES // 1000} kB: not a site file")
    return raw


def _yaml_problem(exc: yaml.YAMLError, text: str) -> ReadError:
    if isinstance(exc, yaml.reader.ReaderError):
        before = text.encode("utf-8")[: exc.position] if _Base is not yaml.SafeLoader else None
        line = before.count(b"\n") if before is not None else text[: exc.position].count("\n")
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1])
        return ReadError(line + 1, f"control character U+{char:04X} is not allowed")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = str(exc.problem or exc)
        if isinstance(exc, ConstructorError) and "could not determine a constructor" in problem:
            tag = problem.rsplit("tag", 1)[-1].strip(" '")
            problem = f"YAML tag {tag} is not allowed in a site file"
        elif "undefined alias" in problem:
            problem = "alias (*name) refers to an anchor (&name) not defined before it"
        elif isinstance(exc, ComposerError | ConstructorError):
            pass
        else:
            lines = text.splitlines()
            if 0 < line <= len(lines) and "\t" in lines[line - 1]:
                problem += " (a tab? indent with spaces)"
            problem = f"YAML syntax error: {problem}"
        return ReadError(line, problem)
    return ReadError(1, f"YAML error: {exc}")


def read_yaml(path: Path) -> tuple[Any, LineMap]:
    """Parse ``path`` within the limits; raise :class:`ReadError` or a list of them."""
    text = _decode(_read_bytes(path))
    _check_flow_depth(text)
    try:
        loader = StrictLoader(text)
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, text) from None
    try:
        node = loader.get_single_node()
        if node is None:
            raise ReadError(1, "file is empty: expected a mapping of settings")
        _check_graph(node, {}, [])
        lines: dict[Loc, int] = {}
        given: dict[Loc, Given] = {}
        problems: list[ReadError] = []
        walk(node, (), lines, given, problems)
        if problems:
            raise ReadErrors(problems)
        data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise _yaml_problem(exc, text) from None
    except RecursionError:
        raise ReadError(1, f"nested deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        kind = "list" if isinstance(data, list) else "single value"
        raise ReadError(1, f"expected a mapping of settings (key: value lines), got a {kind}")
    return data, LineMap(lines, given)


def _check_flow_depth(text: str) -> None:
    """Refuse ``[[[[…`` before PyYAML's scanner (slow on deep flow nesting) sees it.

    Brackets inside quotes and comments are skipped; the count is an upper bound of the
    flow nesting, which is all the limit needs.
    """
    depth, line, quote = 0, 1, ""
    comment = False
    for i, ch in enumerate(text):
        if ch == "\n":
            line += 1
            comment = False
            continue
        if comment:
            continue
        if quote:
            if ch == quote and not (quote == '"' and text[i - 1] == "\\"):
                quote = ""
        elif ch in "\"'" and (i == 0 or text[i - 1] in " \t[{,:"):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            comment = True
        elif ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise ReadError(line, f"nested deeper than {MAX_DEPTH} levels")
        elif ch in "]}":
            depth = max(0, depth - 1)


class ReadErrors(Exception):
    """Several problems found while reading (duplicate keys, keys that are not text)."""

    def __init__(self, problems: list[ReadError]) -> None:
        super().__init__("; ".join(p.reason for p in problems))
        self.problems = problems


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_graph(node: yaml.Node, sizes: dict[int, int], stack: list[int]) -> int:
    """Values ``node`` stands for once its aliases are expanded; refuses cycles and bombs."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    line = node.start_mark.line + 1
    if key in stack:
        raise ReadError(line, "an alias refers to the anchor it is inside (a loop)")
    if len(stack) >= MAX_DEPTH:
        raise ReadError(line, f"nested deeper than {MAX_DEPTH} levels")
    stack.append(key)
    total = 1
    for child in _children(node):
        total += _check_graph(child, sizes, stack)
        if total > MAX_NODES:
            raise ReadError(
                line,
                f"more than {MAX_NODES} values once aliases are expanded: "
                "too large for a site file (a YAML bomb?)",
            )
    stack.pop()
    sizes[key] = total
    return total

"""Load the site YAML and report every problem as ``FILE:LINE: key.path: reason``.

PyYAML's node tree gives a line for every key and item; pydantic's error locations
are mapped onto it (the deepest location that exists in the file wins, so a missing
key points at its parent mapping and an unknown key at itself).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    path: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}: {where}{self.reason}"


class ConfigError(Exception):
    """A config file with one or more problems; ``str()`` lists them one per line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], dups: list[tuple[Loc, int]]) -> None:
    lines[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                dups.append((loc + (key,), key_node.start_mark.line + 1))
            seen.add(key)
            lines[loc + (key,)] = key_node.start_mark.line + 1
            _walk(value_node, loc + (key,), lines, dups)
            # a key's own line beats its value's first line (``key:`` then an indented block)
            lines[loc + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, loc + (i,), lines, dups)


class LineMap:
    """Line numbers of every key and item of one YAML document."""

    def __init__(self, lines: dict[Loc, int]) -> None:
        self._lines = lines

    def line(self, loc: Loc) -> int:
        for end in range(len(loc), -1, -1):
            hit = self._lines.get(tuple(loc[:end]))
            if hit is not None:
                return hit
        return 1


def read_yaml(path: Path) -> tuple[Any, LineMap]:
    """Parse ``path``; raise :class:`ConfigError` for a missing, empty or malformed file."""
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(name, 1, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(name, 1, "", f"cannot read file: {exc}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = f"YAML syntax error: {exc.problem or exc}"
        raise ConfigError([Problem(name, line, "", reason)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([Problem(name, 1, "", f"YAML error: {exc}")]) from None
    if node is None or data is None:
        raise ConfigError([Problem(name, 1, "", "file is empty: expected a mapping of settings")])
    lines: dict[Loc, int] = {}
    dups: list[tuple[Loc, int]] = []
    _walk(node, (), lines, dups)
    if dups:
        raise ConfigError([Problem(name, ln, format_loc(loc), "duplicate key") for loc, ln in dups])
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ConfigError([Problem(name, 1, "", f"expected a mapping of settings, got a {kind}")])
    return data, LineMap(lines)


def _clean_loc(loc: Sequence[str | int]) -> Loc:
    # pydantic inserts validator and union-member names ("function-after[...]", "int") into loc
    return tuple(p for p in loc if isinstance(p, int) or ("[" not in p and p not in _TYPE_TAGS))


_TYPE_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "is-instance[Path]"}


def _reason(err: Any) -> str:
    msg = str(err["msg"])
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if err["type"] == "extra_forbidden":
        return "unknown key"
    if err["type"] == "missing":
        return "required key is missing"
    if "input" in err and err["type"] not in {"missing"} and not isinstance(err["input"], dict):
        shown = repr(err["input"])
        if len(shown) <= 60 and shown not in msg:
            msg += f" (got {shown})"
    return msg


def load_model(
    path: str | Path,
    model: type[M],
    checks: Callable[[M], list[tuple[Loc, str]]] | None = None,
) -> M:
    """Read and validate ``path`` into ``model``; every problem lands in one ConfigError.

    ``checks`` runs after validation for cross-field rules (unique ids, references);
    it returns ``(location, reason)`` pairs.
    """
    path = Path(path)
    data, lines = read_yaml(path)
    name = str(path)
    try:
        obj = model.model_validate(data, context={"config_dir": path.resolve().parent})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = _clean_loc(err["loc"])
            problems.append(Problem(name, lines.line(loc), format_loc(loc), _reason(err)))
        raise ConfigError(sorted(problems, key=lambda p: p.line)) from None
    if checks is not None:
        found = checks(obj)
        if found:
            raise ConfigError(
                [Problem(name, lines.line(loc), format_loc(loc), reason) for loc, reason in found]
            )
    return obj

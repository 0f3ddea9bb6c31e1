"""Load the site YAML and report every problem as ``FILE:LINE: key.path: reason``.

The file is read by :mod:`sitewatch.config.yamlread` (bounded, line per key), then
validated in pydantic's **strict JSON mode**: a boolean is never a number, ``"5"`` is not
an integer, ``001`` is not text, while lists still become tuples and text becomes paths
and dates. Every model loaded here gets this for free; models declare bounds with
``Field(...)`` and cross-field order with :class:`streams.settings.StrictModel`'s
``ordered_fields``. An empty section (``detector:`` with every key commented out) means
its defaults. pydantic's error locations are mapped onto lines (the deepest location
that exists in the file wins); reasons come from :mod:`sitewatch.config.messages`.
"""

from __future__ import annotations

import json
import types
import typing
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined, to_jsonable_python

from sitewatch.config.messages import clean_loc, reason_for
from sitewatch.config.yamlread import LineMap, Loc, ReadError, ReadErrors, read_yaml
from streams.settings import ORDERED_FIELDS_ERROR

M = TypeVar("M", bound=BaseModel)

__all__ = ["ConfigError", "LineMap", "Loc", "Problem", "format_loc", "load_model", "read_yaml"]


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
        if isinstance(part, str) and not part.isprintable():
            part = repr(part)  # an invisible character in a key is shown, not hidden
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _unwrap(annotation: Any) -> Any:
    """``X`` from ``X | None`` and ``Annotated[X, ...]``."""
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (types.UnionType, typing.Union):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def model_at(model: type[BaseModel], loc: Loc) -> type[BaseModel] | None:
    """The model that the mapping at ``loc`` is validated as (None if not a model)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if _is_model(current) and isinstance(part, str):
            info = current.model_fields.get(part)
            if info is None:
                return None
            current = info.annotation
        elif get_origin(current) in (list, tuple) and isinstance(part, int):
            args = [a for a in get_args(current) if a is not Ellipsis]
            current = args[min(part, len(args) - 1)] if args else Any
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            return None
    current = _unwrap(current)
    return current if _is_model(current) else None


def _fill_empty_sections(data: Any, model: type[BaseModel]) -> Any:
    """Drop ``key:`` with no value where the key is a section or list with a default."""
    if not isinstance(data, dict):
        return data
    out = dict(data)
    for name, info in model.model_fields.items():
        inner = _unwrap(info.annotation)
        if name not in out:
            # absent sections are validated too (with the config's folder as context), and
            # defaults that ask to be validated go in as JSON (strict mode takes no Path)
            if _is_model(inner) and info.annotation is inner and not info.is_required():
                out[name] = {}
            elif info.validate_default and info.default is not PydanticUndefined:
                out[name] = to_jsonable_python(info.default)
            else:
                continue
        value = out[name]
        section = _is_model(inner) or get_origin(inner) in (list, dict)
        if value is None and section and not info.is_required() and info.annotation is inner:
            del out[name]
            continue
        if _is_model(inner):
            out[name] = _fill_empty_sections(value, inner)
        elif get_origin(inner) is list and isinstance(value, list):
            (item,) = get_args(inner) or (Any,)
            item = _unwrap(item)
            if _is_model(item):
                out[name] = [_fill_empty_sections(v, item) for v in value]
    return out


def _problems(
    exc: ValidationError, name: str, lines: LineMap, model: type[BaseModel]
) -> list[Problem]:
    problems: list[Problem] = []
    for err in exc.errors():
        loc = clean_loc(err["loc"])
        if err["type"] == ORDERED_FIELDS_ERROR:
            low, high = err["ctx"]["low"], err["ctx"]["high"]
            present = [k for k in (low, high) if lines.has(loc + (k,))]
            if present:
                loc = max((loc + (k,) for k in present), key=lines.line)
        parent = model_at(model, loc[:-1]) if loc else None
        known = list(parent.model_fields) if parent is not None else []
        reason = reason_for(err, lines.given(loc), known)
        problem = Problem(name, lines.line(loc), format_loc(loc), reason)
        if problem not in problems:
            problems.append(problem)
    return sorted(problems, key=lambda p: p.line)


def _read(path: Path) -> tuple[Any, LineMap]:
    name = str(path)
    try:
        return read_yaml(path)
    except ReadError as exc:
        raise ConfigError([Problem(name, exc.line, exc.path, exc.reason)]) from None
    except ReadErrors as exc:
        found = sorted(exc.problems, key=lambda p: p.line)
        raise ConfigError([Problem(name, p.line, p.path, p.reason) for p in found]) from None


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
    name = str(path)
    data, lines = _read(path)
    context = {"config_dir": path.resolve().parent}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy/shapely on odd geometry: the checks report it
        try:
            text = json.dumps(_fill_empty_sections(data, model), ensure_ascii=False)
            obj = model.model_validate_json(text, strict=True, context=context)
            found = checks(obj) if checks is not None else []
        except ValidationError as exc:
            raise ConfigError(_problems(exc, name, lines, model)) from None
        except Exception as exc:  # a check that broke on odd input: still a message, not a crash
            reason = f"cannot check this file ({type(exc).__name__}: {exc})"
            raise ConfigError([Problem(name, 1, "", reason)]) from None
    if found:
        raise ConfigError(
            [Problem(name, lines.line(loc), format_loc(loc), reason) for loc, reason in found]
        )
    return obj

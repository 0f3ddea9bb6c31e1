"""The config reference (Markdown), generated from the pydantic models themselves."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from streams.clock import format_duration, parse_duration


def _is_duration(info: FieldInfo) -> bool:
    metadata = list(info.metadata)
    for arg in get_args(info.annotation):  # ``Duration | None`` keeps its metadata inside
        metadata.extend(getattr(arg, "__metadata__", ()))
    return any(getattr(m, "func", None) is parse_duration for m in metadata)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``X``, ``list[X]`` or ``X | None``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _type_name(annotation: Any, duration: bool) -> str:
    if duration:
        return "list of duration" if get_origin(annotation) is list else "duration"
    origin = get_origin(annotation)
    args = get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0], duration)
    if origin is Literal:
        return " \\| ".join(str(a) for a in args)
    if origin in (types.UnionType, typing.Union):
        return " \\| ".join(_type_name(a, False) for a in args if a is not type(None))
    if origin in (list, tuple):
        inner = ", ".join(_type_name(a, False) for a in args if a is not Ellipsis)
        return f"[{inner}]" if origin is tuple else f"list of {inner}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    if annotation is Path:
        return "path"
    return getattr(annotation, "__name__", str(annotation))


def _bounds(info: FieldInfo, duration: bool) -> str:
    unit = "chars" if info.annotation in (str, str | None) else "items"
    show = format_duration if duration else (lambda v: f"{v:g}")
    parts = []
    for m in info.metadata:
        for cls, attr, sign in ((Ge, "ge", "≥"), (Gt, "gt", ">"), (Le, "le", "≤"), (Lt, "lt", "<")):
            if isinstance(m, cls):
                parts.append(f"{sign} {show(getattr(m, attr))}")
        if isinstance(m, MinLen) and m.min_length:
            parts.append(f"≥ {m.min_length} {unit}")
        if isinstance(m, MaxLen):
            parts.append(f"≤ {m.max_length} {unit}")
    return ", ".join(parts)


def _default(info: FieldInfo, duration: bool) -> str:
    if info.is_required():
        return "required"
    factory = info.default_factory
    value = factory() if factory is not None else info.default  # type: ignore[call-arg]
    if value is None or value is PydanticUndefined:
        return "—"
    if isinstance(value, BaseModel):
        return "see below"
    if duration and isinstance(value, list):
        return f"`[{', '.join(format_duration(float(v)) for v in value)}]`"
    if duration:
        return f"`{format_duration(float(value))}`"
    if isinstance(value, list) and len(value) > 3:
        return f"{len(value)} items"
    return f"`{value}`"


def _rows(model: type[BaseModel], prefix: str, out: list[str], seen: set[str]) -> None:
    nested: list[tuple[str, type[BaseModel]]] = []
    fields = sorted(model.model_fields.items(), key=lambda kv: not kv[1].is_required())
    for name, info in fields:
        key = f"{prefix}{name}"
        duration = _is_duration(info)
        sub = _model_of(info.annotation)
        is_list = get_origin(info.annotation) is list
        desc = (info.description or "").replace("|", "\\|")
        ty = _type_name(info.annotation, duration)
        out.append(
            f"| `{key}` | {ty} | {_default(info, duration)} | {_bounds(info, duration)} | {desc} |"
        )
        if sub is not None:
            nested.append((f"{key}[]." if is_list else f"{key}.", sub))
    for sub_prefix, sub in nested:
        if sub_prefix not in seen:
            seen.add(sub_prefix)
            _rows(sub, sub_prefix, out, seen)


def config_reference(model: type[BaseModel]) -> str:
    """A Markdown table of every key of ``model`` (nested keys dotted, lists as ``[]``)."""
    out = ["| key | type | default | bounds | meaning |", "|---|---|---|---|---|"]
    _rows(model, "", out, set())
    return "\n".join(out) + "\n"

"""The one detection type that every stage speaks, from model output to the API.

Modelled on supervision's ``Detections``: parallel arrays, one row per box, plus
``data`` for per-row extras (zone id, first-seen time, evidence folder…). Model
backends build it from their raw outputs at the edge; the change finder, the
geofence, the persistence tracker and the worker all pass it along; the API
receives ``records()`` as JSON.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@dataclass(frozen=True, eq=False)
class Detections:
    """N boxes in source pixels with scores, classes, optional masks and extra data.

    ``xyxy``: float32 (N, 4) as x1, y1, x2, y2. ``confidence``: float32 (N,).
    ``class_id``: int64 (N,). ``class_name``: N strings. ``mask``: optional bool
    (N, H, W). ``data``: per-row arrays or lists, each of length N.
    """

    xyxy: FloatArray
    confidence: FloatArray
    class_id: IntArray
    class_name: tuple[str, ...]
    mask: BoolArray | None = None
    data: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        n = len(xyxy)
        conf = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        cls = np.asarray(self.class_id, dtype=np.int64).reshape(-1)
        names = tuple(str(s) for s in self.class_name)
        if len(conf) != n or len(cls) != n or len(names) != n:
            raise ValueError(
                f"Detections: xyxy has {n} rows but confidence has {len(conf)}, "
                f"class_id {len(cls)}, class_name {len(names)}"
            )
        if self.mask is not None and len(self.mask) != n:
            raise ValueError(f"Detections: mask has {len(self.mask)} rows, expected {n}")
        for key, values in self.data.items():
            if len(values) != n:
                raise ValueError(f"Detections: data[{key!r}] has {len(values)} rows, expected {n}")
        object.__setattr__(self, "xyxy", _frozen(xyxy))
        object.__setattr__(self, "confidence", _frozen(conf))
        object.__setattr__(self, "class_id", _frozen(cls))
        object.__setattr__(self, "class_name", names)
        if self.mask is not None:
            object.__setattr__(self, "mask", _frozen(np.asarray(self.mask, dtype=bool)))
        object.__setattr__(self, "data", {k: list(v) for k, v in self.data.items()})

    @classmethod
    def empty(cls) -> Detections:
        return cls(
            xyxy=np.zeros((0, 4), np.float32),
            confidence=np.zeros(0, np.float32),
            class_id=np.zeros(0, np.int64),
            class_name=(),
        )

    @classmethod
    def merge(cls, parts: Sequence[Detections]) -> Detections:
        """Rows of all ``parts`` in order; ``data`` keys must match, masks must agree."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        keys = set(parts[0].data)
        if any(set(p.data) != keys for p in parts):
            raise ValueError("Detections.merge: parts have different data keys")
        masks = [p.mask for p in parts]
        if any(m is None for m in masks) and not all(m is None for m in masks):
            raise ValueError("Detections.merge: some parts have masks and some do not")
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            class_id=np.concatenate([p.class_id for p in parts]),
            class_name=tuple(n for p in parts for n in p.class_name),
            mask=None if masks[0] is None else np.concatenate([m for m in masks if m is not None]),
            data={k: [v for p in parts for v in p.data[k]] for k in keys},
        )

    def __len__(self) -> int:
        return len(self.xyxy)

    def __iter__(self) -> Iterator[Detections]:
        for i in range(len(self)):
            yield self[i : i + 1]

    def __getitem__(self, index: int | slice | Sequence[int] | np.ndarray) -> Detections:
        """Rows by index, slice, index list or boolean array (always a ``Detections``)."""
        if isinstance(index, int):
            index = slice(index, index + 1 if index != -1 else None)
        idx = np.arange(len(self))[index]
        return Detections(
            xyxy=self.xyxy[idx],
            confidence=self.confidence[idx],
            class_id=self.class_id[idx],
            class_name=tuple(self.class_name[i] for i in idx),
            mask=None if self.mask is None else self.mask[idx],
            data={k: [v[i] for i in idx] for k, v in self.data.items()},
        )

    def with_data(self, **columns: Sequence[Any]) -> Detections:
        """A copy with extra (or replaced) per-row ``data`` columns."""
        return Detections(
            xyxy=self.xyxy,
            confidence=self.confidence,
            class_id=self.class_id,
            class_name=self.class_name,
            mask=self.mask,
            data={**self.data, **columns},
        )

    @property
    def area(self) -> FloatArray:
        """Box areas in square pixels."""
        wh = np.clip(self.xyxy[:, 2:] - self.xyxy[:, :2], 0, None)
        return (wh[:, 0] * wh[:, 1]).astype(np.float32)

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per row: bbox, score, class id and name, then ``data``."""
        out = []
        for i in range(len(self)):
            rec: dict[str, Any] = {
                "bbox": [round(float(v), 1) for v in self.xyxy[i]],
                "score": round(float(self.confidence[i]), 4),
                "class_id": int(self.class_id[i]),
                "label": self.class_name[i],
            }
            for k, v in self.data.items():
                rec[k] = v[i].item() if isinstance(v[i], np.generic) else v[i]
            out.append(rec)
        return out

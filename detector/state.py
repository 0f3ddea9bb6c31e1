"""One camera's state on disk: its references and its tracks, saved and restored together.

``<reference_dir>/<camera>/`` holds ``reference.json`` and one ``<mode>.npz`` per light
mode (``ReferenceSet``), ``tracks.json`` (every track) and ``tracks.npz`` (the looks of
confirmed tracks before and after, so that ``gone`` still works after a restart).
Tracks are restored only with the references they were found against. Every file is
written atomically (a temporary file, then a rename).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from detector.frames import LightMode
from detector.reference import ReferenceSet, write_json
from detector.tracking import Tracker


class StateStore:
    """Saves and restores one camera's references and tracks in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, refs: ReferenceSet, tracker: Tracker) -> None:
        refs.save(self.folder)
        write_json(self.folder / "tracks.json", tracker.to_json())
        tmp = self.folder / ".tracks.tmp.npz"
        np.savez(tmp, **_looks(tracker))  # type: ignore[arg-type]
        tmp.replace(self.folder / "tracks.npz")

    def load(self, refs: ReferenceSet, tracker: Tracker) -> bool:
        """Restore what :meth:`save` wrote; False when there is nothing for this image size."""
        if not refs.load(self.folder):
            return False
        tracks = self.folder / "tracks.json"
        if tracks.is_file():
            tracker.load_json(json.loads(tracks.read_text(encoding="utf-8")))
            crops = self.folder / "tracks.npz"
            if crops.is_file():
                with np.load(crops) as data:
                    _restore_looks(tracker, {k: data[k] for k in data.files})
        return True


def _looks(tracker: Tracker) -> dict[str, np.ndarray]:
    """The confirmed tracks' looks before and after, by ``<id>_<kind>_<mode>``."""
    out = {}
    for k in tracker.confirmed:
        for kind, crops in (("before", k.before), ("after", k.templates)):
            for mode, crop in crops.items():
                out[f"{k.id}_{kind}_{mode.value}"] = crop
    return out


def _restore_looks(tracker: Tracker, crops: Mapping[str, np.ndarray]) -> None:
    """Give restored confirmed tracks back their looks (so ``gone`` still works)."""
    by_id = {k.id: k for k in tracker.confirmed}
    for key, crop in crops.items():
        ident, kind, mode = key.split("_", 2)
        track = by_id.get(int(ident))
        x1, y1, x2, y2 = track.box if track is not None else (0, 0, 0, 0)
        if track is None or crop.shape != (y2 - y1, x2 - x1):
            continue
        target = track.before if kind == "before" else track.templates
        target[LightMode(mode)] = crop.astype(np.float32)

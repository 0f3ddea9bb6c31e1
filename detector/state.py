"""One camera's state on disk: its references and its tracks, saved and restored together.

``<reference_dir>/<camera>/`` holds ``reference.json`` and one ``<mode>.npz`` per light
mode (``ReferenceSet``), ``tracks.json`` (every track) and ``tracks.npz`` (the looks of
confirmed tracks before and after, so that ``gone`` still works after a restart).
Tracks are restored only with the references they were found against. Every file is
written atomically (a temporary file, then a rename).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

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
        np.savez(tmp, **tracker.crops())  # type: ignore[arg-type]
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
                    tracker.load_crops({k: data[k] for k in data.files})
        return True

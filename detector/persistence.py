"""Persistence: a change becomes a detection only after it stays at a stable place.

Each stable changed region starts (or feeds) a :class:`Track`. A track is *stable*
while its box stays put and its texture matches the template taken when it settled
(one template per light mode, so dusk does not unsettle it); moving, growing a lot or
changing its look restarts the clock. A track is confirmed once it has been stable for
``confirm_after`` seconds of stream time, is seen in the current sample, has been seen
in light like its reference's, and is neither transient (people, vehicles), a light
source, nor only light or shadow on the same surface. Samples
in which the track's place cannot be compared (a reference still warming up after
dusk) count neither way; up to ``max_missed`` comparable samples without it are
tolerated. A confirmed track is known: it never fires again. If the place then
changes back towards what it looked like before, for ``confirm_after`` again, the
track reports ``gone``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from detector.frames import LightMode
from detector.reference import write_json
from detector.tracks import (
    Box,
    Track,
    TrackState,
    area,
    box_inside,
    box_iou,
    box_overlap,
    box_union,
    boxes_touch,
    texture_distance,
)

TEXTURE_KEPT = 0.2  # census distance under which a surface still shows its own texture


@dataclass(frozen=True)
class Observation:
    """What one sample shows, in analysis pixels (the frame already aligned to the reference)."""

    t: float
    index: int
    mode: LightMode
    norm: np.ndarray  # current normalised grey
    reference: np.ndarray  # the reference it was compared with
    changed: np.ndarray  # bool: changed pixels
    comparable: np.ndarray  # bool: pixels where the comparison means something
    visible: np.ndarray  # bool: watched pixels in view (the reference may not know them)
    regions: list[tuple[Box, str, float]]  # (box, zone id, strength) of stable regions
    light_ok: bool = True  # steady light like the reference's (not dusk, not a passing cloud)
    light_like: bool = True  # lit about like the reference's frames (0.6–1.7× its luma)
    chroma_diff: np.ndarray | None = None  # (h, w, 2) colour minus reference colour (day only)


class Tracker:
    """Turns per-sample regions into confirmed and gone structures (see module docstring)."""

    def __init__(
        self,
        max_missed: int = 4,
        settle_iou: float = 0.7,
        settle_texture: float = 0.18,
        touch: int = 8,
    ) -> None:
        if max_missed < 0:
            raise ValueError(f"max_missed must be ≥ 0 samples, got {max_missed}")
        self.max_missed = max_missed
        self.settle_iou = settle_iou
        self.settle_texture = settle_texture
        self.touch = touch
        self.tracks: list[Track] = []
        self._next_id = 1
        self._seen: set[int] = set()  # track ids seen in the latest sample

    @property
    def pending(self) -> list[Track]:
        return [k for k in self.tracks if k.state is TrackState.PENDING]

    @property
    def confirmed(self) -> list[Track]:
        return [k for k in self.tracks if k.state is TrackState.CONFIRMED]

    def seen_now(self, track: Track) -> bool:
        return track.id in self._seen

    def observe(self, obs: Observation) -> None:
        """Match regions to tracks, start new tracks, count hits and misses."""
        matched: dict[int, list[tuple[Box, float]]] = {}
        self._seen = set()
        for box, zone, strength in obs.regions:
            owner = self._merge_owners(box)
            if owner is None:
                self._seen.add(self._start(box, zone, strength, obs).id)
            elif owner.id in self._seen:  # another part of a track started in this sample
                owner.box = box_union([owner.box, box])
                owner.templates[obs.mode] = owner.crop(obs.norm).copy()
            elif owner.state is TrackState.PENDING:
                matched.setdefault(owner.id, []).append((box, strength))
        started = set(self._seen)
        for track in list(self.tracks):
            if track.state is TrackState.CONFIRMED:
                self._watch_confirmed(track, obs)
            elif track.id not in started:
                self._follow(track, matched.get(track.id, []), obs)

    def _merge_owners(self, box: Box) -> Track | None:
        """The track ``box`` belongs to; pending tracks it joins are merged into the oldest
        (lights and mere light or shadow stay apart: they never make a structure bigger)."""
        # a change on or just beside a known structure (its shadow as the sun moves, an
        # edge the box missed) is that structure, unless it is at least half its size
        confirmed = [
            k
            for k in self.confirmed
            if box_overlap(box, k.box) > 0.3
            or (boxes_touch(box, k.box, self.touch) and area(box) < 0.5 * area(k.box))
        ]
        if confirmed:
            return max(confirmed, key=lambda k: box_overlap(box, k.box))
        owners = [
            k
            for k in self.pending
            if not (k.lit or k.illumination) and boxes_touch(box, k.box, self.touch)
        ]
        if not owners:
            return None
        owners.sort(key=lambda k: k.first_seen)
        keep = owners[0]
        for other in owners[1:]:
            keep.box = box_union([keep.box, other.box])
            keep.stable_since = max(keep.stable_since, other.stable_since)
            keep.templates = {}
            self.tracks.remove(other)
            self._seen.discard(other.id)
        return keep

    def _start(self, box: Box, zone: str, strength: float, obs: Observation) -> Track:
        track = Track(self._next_id, zone, box, obs.t, obs.t, obs.t, strength=strength)
        track.matched = obs.light_like
        track.illumination = illumination_only(track, obs)
        track.templates[obs.mode] = track.crop(obs.norm).copy()
        self._next_id += 1
        self.tracks.append(track)
        return track

    def comparable(self, track: Track, obs: Observation) -> bool:
        return float(track.crop(obs.comparable).mean()) >= 0.6

    def _present(
        self, track: Track, parts: list[tuple[Box, float]], obs: Observation
    ) -> bool | None:
        """Is the track's change still there? None when this sample cannot tell.

        Where the reference knows the place: changed pixels say so. Where it does not (a
        light mode whose reference was learnt while the track was pending): the place
        must keep the look it had when first seen in this mode.
        """
        if self.comparable(track, obs):
            return bool(parts) or float(track.crop(obs.changed).mean()) >= 0.25
        if float(track.crop(obs.visible).mean()) < 0.6:
            return None
        template = track.templates.get(obs.mode)
        if template is None:
            track.templates[obs.mode] = track.crop(obs.norm).copy()
            return True
        return texture_distance(track.crop(obs.norm), template) <= self.settle_texture

    def _follow(self, track: Track, parts: list[tuple[Box, float]], obs: Observation) -> None:
        present = self._present(track, parts, obs)
        if present is None:
            return
        if not present:
            track.misses += 1
            if track.misses > self.max_missed:
                self.tracks.remove(track)
            return
        track.misses = 0
        track.hits += 1
        if self.comparable(track, obs):
            track.matched |= obs.light_like
            track.illumination = illumination_only(track, obs)
        track.last_seen = obs.t
        self._seen.add(track.id)
        if parts:
            track.strength = max(s for _, s in parts)
            new_box = box_union([b for b, _ in parts])
            if not obs.light_ok and box_iou(new_box, track.box) < 0.5:
                new_box = track.box  # in dusk light a track grows only a little at a time
            if self._moved_or_grown(track, new_box, obs):
                return
        template = track.templates.get(obs.mode)
        if template is None:
            track.templates[obs.mode] = track.crop(obs.norm).copy()
        elif texture_distance(track.crop(obs.norm), template) > self.settle_texture:
            self._resettle(track, track.box, obs)

    def _moved_or_grown(self, track: Track, new_box: Box, obs: Observation) -> bool:
        """Follow the region's extent; True when its stability clock had to restart.

        Seen only in part (dusk, occlusion): the box stays. Grown a little around the
        same place (a shadow lengthening, a last part added): the box grows, the clock
        runs on. Grown a lot or moved (still being built, or not one object): restart.
        """
        iou = box_iou(new_box, track.box)
        if box_inside(new_box, track.box) >= 0.9 or iou >= self.settle_iou:
            return False
        if iou >= 0.5 and box_inside(track.box, new_box) >= 0.9:
            track.box = box_union([track.box, new_box])
            track.templates = {obs.mode: track.crop(obs.norm).copy()}
            return False
        self._resettle(track, new_box, obs)
        return True

    def _resettle(self, track: Track, box: Box, obs: Observation) -> None:
        """The region moved, grew or changed its look: its stability clock restarts."""
        track.box = box
        track.stable_since = obs.t
        track.templates = {obs.mode: track.crop(obs.norm).copy()}
        track.transient_checked = -(10**9)

    def confirm_due(self, confirm_after: dict[str, float], t: float) -> list[Track]:
        """Pending tracks seen now, not transient, stable for their zone's ``confirm_after``."""
        due = []
        for track in self.pending:
            wait = confirm_after.get(track.zone)
            if wait is None or track.transient or track.lit or track.illumination:
                continue
            if not track.matched:
                continue
            if not self.seen_now(track):
                continue
            if t - track.stable_since >= wait:
                due.append(track)
        return due

    def mark_confirmed(self, track: Track, obs: Observation) -> None:
        """Remember what the place looked like before; the track never fires again."""
        track.state = TrackState.CONFIRMED
        track.confirmed_at = obs.t
        track.before = {}
        if self.comparable(track, obs):
            track.before[obs.mode] = track.crop(obs.reference).copy()
        track.templates = {obs.mode: track.crop(obs.norm).copy()}

    def _watch_confirmed(self, track: Track, obs: Observation) -> None:
        """Look for the confirmed structure's disappearance (changed back towards before)."""
        if not self.comparable(track, obs):
            return
        gone = float(track.crop(obs.changed).mean()) >= 0.35
        before = track.before.get(obs.mode)
        after = track.templates.get(obs.mode)
        if gone and before is not None and after is not None:
            cur = track.crop(obs.norm)
            gone = texture_distance(cur, before) < 0.8 * texture_distance(cur, after)
        if not gone:
            track.gone_since = None
        elif track.gone_since is None:
            track.gone_since = obs.t

    def gone_due(self, confirm_after: dict[str, float], t: float) -> list[Track]:
        """Confirmed tracks whose place has looked like before for their ``confirm_after``."""
        out = []
        for track in self.confirmed:
            wait = confirm_after.get(track.zone, 0.0)
            if track.gone_since is not None and t - track.gone_since >= wait:
                out.append(track)
        return out

    def remove(self, track: Track) -> None:
        self.tracks.remove(track)

    def to_json(self) -> dict[str, Any]:
        return {"next_id": self._next_id, "tracks": [k.to_json() for k in self.tracks]}

    def load_json(self, d: dict[str, Any]) -> None:
        self.tracks = [Track.from_json(k) for k in d.get("tracks", [])]
        self._next_id = max([int(d.get("next_id", 1))] + [k.id + 1 for k in self.tracks])

    def save(self, folder: Path) -> None:
        """``tracks.json`` (every track) and ``tracks.npz`` (confirmed tracks' looks)."""
        folder.mkdir(parents=True, exist_ok=True)
        write_json(folder / "tracks.json", self.to_json())
        tmp = folder / ".tracks.tmp.npz"
        np.savez_compressed(tmp, **self.crops())  # type: ignore[arg-type]
        tmp.replace(folder / "tracks.npz")

    def load(self, folder: Path) -> None:
        """Restore what :meth:`save` wrote (nothing when it is not there)."""
        tracks = folder / "tracks.json"
        if not tracks.is_file():
            return
        self.load_json(json.loads(tracks.read_text(encoding="utf-8")))
        crops = folder / "tracks.npz"
        if crops.is_file():
            with np.load(crops) as data:
                self.load_crops({k: data[k] for k in data.files})

    def crops(self) -> dict[str, np.ndarray]:
        """The confirmed tracks' looks before and after, by ``<id>_<kind>_<mode>``."""
        out = {}
        for k in self.confirmed:
            for kind, crops in (("before", k.before), ("after", k.templates)):
                for mode, crop in crops.items():
                    out[f"{k.id}_{kind}_{mode.value}"] = crop
        return out

    def load_crops(self, crops: Mapping[str, np.ndarray]) -> None:
        """Give restored confirmed tracks back their looks (so ``gone`` still works)."""
        by_id = {k.id: k for k in self.confirmed}
        for key, crop in crops.items():
            ident, kind, mode = key.split("_", 2)
            track = by_id.get(int(ident))
            x1, y1, x2, y2 = track.box if track is not None else (0, 0, 0, 0)
            if track is None or crop.shape != (y2 - y1, x2 - x1):
                continue
            target = track.before if kind == "before" else track.templates
            target[LightMode(mode)] = crop.astype(np.float32)


def illumination_only(track: Track, obs: Observation) -> bool:
    """Does the change in the track's box look like light or shadow on the same surface?

    Under a shadow, a patch of sun or the pool of a street lamp the log brightness moves
    by about the same amount everywhere in the box (mean difference over twice its
    spread), colour stays or shifts evenly (a yellow lamp), and the surface keeps its
    texture; a new object changes the pattern, so the difference varies across the box.
    """
    d = track.crop(obs.norm) - track.crop(obs.reference)
    if d.size == 0:
        return False
    mean, spread = abs(float(d.mean())), float(d.std())
    if mean < 0.3 or mean < 2.0 * spread:
        return False
    if obs.chroma_diff is not None:
        dc = track.crop(obs.chroma_diff).reshape(-1, 2)
        shift, scatter = np.abs(dc.mean(axis=0)), dc.std(axis=0)
        if bool(np.any(scatter > np.maximum(0.06, shift / 1.5))):
            return False  # the colour changed, and not evenly
    # the surface's own texture is still there (a slab laid on gravel would hide it)
    return texture_distance(track.crop(obs.norm), track.crop(obs.reference)) < TEXTURE_KEPT

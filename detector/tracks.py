"""Tracks (candidate or confirmed structures), what one sample shows them (:class:`Observation`)
and the texture and light helpers they use (box measures are in ``detector.boxes``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from detector.boxes import Box
from detector.frames import LightMode, texture_change


class TrackState(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"


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


@dataclass
class Track:
    """One candidate (or confirmed) structure, in analysis pixels."""

    id: int
    zone: str
    box: Box
    first_seen: float
    last_seen: float
    stable_since: float
    state: TrackState = TrackState.PENDING
    strength: float = 1.0
    misses: int = 0
    hits: int = 1
    transient: bool = False
    lit: bool = False  # seen as a light source (lit window, lamp) in a dim frame: never confirmed
    matched: int = 0  # samples it was seen in lit like its reference (confirming needs a few)
    illumination: bool = False  # looks like light or shadow on the same surface, not a new thing
    solid: bool = False  # once seen by day as more than light or shadow (``seen_solid``)
    look_noise: float = 0.0  # usual distance to its template where the reference cannot tell
    transient_checked: int = -(10**9)  # sample index of the last transient-model check
    looks: list[bool] = field(default_factory=list)  # latest transient-model verdicts
    confirmed_at: float | None = None
    reported: bool = True  # False: confirmed but its class does not count in the zone
    gone_since: float | None = None
    label: str = "change"
    score: float = 0.0
    evidence: str | None = None
    templates: dict[LightMode, np.ndarray] = field(default_factory=dict)
    before: dict[LightMode, np.ndarray] = field(default_factory=dict)
    last_look: np.ndarray | None = None  # by day: its look in the latest sample …
    tint: np.ndarray | None = None  # … and its colour (minus the reference's) …
    steady_since: float | None = None  # … and since when both were kept sample to sample

    def take_look(self, obs: Observation, fresh: bool = False) -> None:
        """The place as it looks now becomes the template of this light mode (``fresh``:
        the only template)."""
        if fresh:
            self.templates = {}
        self.templates[obs.mode] = self.crop(obs.norm).copy()

    def note_look(self, obs: Observation, comparable: bool) -> None:
        """Follow the box from sample to sample by day: since when has it kept both its
        texture (``STEADY_TEXTURE``) and its colour (``colour_kept``) from one sample to
        the next? Unknown at night, where the sample cannot be compared and after a new box."""
        if obs.chroma_diff is None or not comparable:
            self.last_look = self.tint = self.steady_since = None
            return
        look, tint = self.crop(obs.norm), self.crop(obs.chroma_diff)
        kept = (
            self.last_look is not None
            and self.tint is not None
            and self.tint.shape == tint.shape
            and colour_kept(self.tint, tint)
            and texture_distance(look, self.last_look) <= STEADY_TEXTURE
        )
        if not kept:
            self.steady_since = obs.t
        self.last_look, self.tint = look.copy(), tint.copy()

    def judge_light(self, obs: Observation) -> None:
        """Is the change in its box only light or shadow now (``illumination_only``)? Has
        it been seen by day as more than that (``seen_solid``)?"""
        self.illumination = illumination_only(self, obs)
        self.solid |= seen_solid(self, obs)

    def box_mask(self, shape: tuple[int, int]) -> np.ndarray:
        m = np.zeros(shape, bool)
        x1, y1, x2, y2 = self.box
        m[y1:y2, x1:x2] = True
        return m

    def crop(self, image: np.ndarray) -> np.ndarray:
        x1, y1, x2, y2 = self.box
        return image[y1:y2, x1:x2]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "zone": self.zone,
            "box": list(self.box),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "stable_since": self.stable_since,
            "state": self.state.value,
            "strength": self.strength,
            "transient": self.transient,
            "looks": list(self.looks),
            "matched": self.matched,
            "solid": self.solid,
            "confirmed_at": self.confirmed_at,
            "reported": self.reported,
            "label": self.label,
            "score": self.score,
            "evidence": self.evidence,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Track:
        x1, y1, x2, y2 = (int(v) for v in d["box"])
        return cls(
            id=int(d["id"]),
            zone=str(d["zone"]),
            box=(x1, y1, x2, y2),
            first_seen=float(d["first_seen"]),
            last_seen=float(d["last_seen"]),
            stable_since=float(d["stable_since"]),
            state=TrackState(d["state"]),
            strength=float(d.get("strength", 1.0)),
            transient=bool(d.get("transient", False)),
            looks=[bool(v) for v in d.get("looks", [])],
            matched=int(d.get("matched", 0)),
            solid=bool(d.get("solid", False)),
            confirmed_at=None if d.get("confirmed_at") is None else float(d["confirmed_at"]),
            reported=bool(d.get("reported", True)),
            label=str(d.get("label", "change")),
            score=float(d.get("score", 0.0)),
            evidence=d.get("evidence"),
        )


def texture_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean census distance between two equally sized normalised crops (0 same … ~0.5 unrelated)."""
    if a.shape != b.shape or min(a.shape) < 5:
        return 1.0
    dist, _ = texture_change(_renorm(a), _renorm(b), 3)
    return float(dist.mean())


def _renorm(crop: np.ndarray) -> np.ndarray:
    std = float(crop.std())
    return ((crop - float(crop.mean())) / max(std, 1e-3)).astype(np.float32)


LIGHT_BACK = 0.35  # normalised grey within this of the reference: the place looks as before
LIGHT_BACK_SHARE = 0.7  # ... for this share of the pixels: a shadow or a patch of sun left
LIGHT_SHADE = 0.3  # darker than the reference by at least this (log light) ...
LIGHT_EVEN = 1.25  # ... and this many times the spread: a shadow fell on the same surface
LIGHT_TEXTURE = 0.15  # census distance under which the surface keeps its own texture
LIGHT_CHROMA_SCATTER = 0.08  # a shadow shifts colour evenly, if at all (day only)


def explained_by_light(
    current: np.ndarray,
    reference: np.ndarray,
    pixels: np.ndarray,
    chroma_diff: np.ndarray | None = None,
) -> bool:
    """Is the change at ``pixels`` (bool, same shape) only light or shadow moving on the
    same surfaces? Either they look as the reference shows them again (a shadow moved
    off), or they are evenly darker than it (a shadow moved on) with their texture and
    colour kept (``chroma_diff``: colour minus the reference's, by day). A new part of a structure
    changes the pattern or the colour, or brightens the place, not only darkens it."""
    n = int(np.count_nonzero(pixels))
    if n < 16:
        return False
    e = (current - reference)[pixels]
    if float(np.mean(np.abs(e) < LIGHT_BACK)) >= LIGHT_BACK_SHARE:
        return True
    mean, spread = float(e.mean()), float(e.std())
    if mean > -LIGHT_SHADE or -mean < LIGHT_EVEN * spread:
        return False
    census, _ = texture_change(_renorm(current), _renorm(reference), 3)
    if float(census[pixels].mean()) >= LIGHT_TEXTURE:
        return False  # the pattern changed: something new, not a shadow over the old
    if chroma_diff is not None:
        scatter = chroma_diff[pixels].reshape(-1, 2).std(axis=0)
        return bool(np.all(scatter <= LIGHT_CHROMA_SCATTER))
    return True


def grown_by_light(box: Box, new_box: Box, obs: Observation) -> bool:
    """Is all the region gained beyond ``box`` in ``new_box`` only light or shadow on the
    same surface (``explained_by_light``)?"""
    x1, y1, x2, y2 = new_box
    added = obs.changed[y1:y2, x1:x2].copy()
    ox1, oy1, ox2, oy2 = box
    added[max(0, oy1 - y1) : max(0, oy2 - y1), max(0, ox1 - x1) : max(0, ox2 - x1)] = False
    cur, ref = obs.norm[y1:y2, x1:x2], obs.reference[y1:y2, x1:x2]
    chroma = None if obs.chroma_diff is None else obs.chroma_diff[y1:y2, x1:x2]
    return explained_by_light(cur, ref, added, chroma)


TURNED_BACK = 0.25  # a part of a box changed in less of it than this shows the reference again


def turned_back(box: Box, kept: Box, obs: Observation) -> bool:
    """Does the part of ``box`` outside ``kept`` show what the reference shows again (a
    morning shadow gone as the noon one falls elsewhere, an edge the box had too much)?"""
    lost = np.zeros(obs.changed.shape, bool)
    lost[box[1] : box[3], box[0] : box[2]] = True
    lost[kept[1] : kept[3], kept[0] : kept[2]] = False
    return bool(lost.any()) and float(obs.changed[lost].mean()) < TURNED_BACK


TEXTURE_KEPT = 0.2  # census distance under which a surface still shows its own texture


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


def seen_solid(track: Track, obs: Observation) -> bool:
    """Is the track seen now as more than light or shadow (``track.illumination`` just
    judged)? Told by day only, in light like the reference's, where colour tells a shade
    from a thing; at night a lamp's uneven pool would pass for one."""
    return obs.chroma_diff is not None and obs.light_like and not track.illumination


SHADING_TINT = 0.1  # colour (log ratio) shift of a whole box that light alone may bring
COLOUR_MOVED = 0.15  # a pixel whose colour moved this much more than the box's did changed …
COLOUR_MOVED_SHARE = 0.02  # … and this share of such pixels is more of something built
STEADY_TEXTURE = 0.12  # census distance between two samples of a place that kept its look


def colour_kept(before: np.ndarray, now: np.ndarray) -> bool:
    """Has a box kept its colour (h × w × 2, minus the reference's) from one sample to the
    next? Light — the sun moving, a cloud, the afternoon's warmer tone — shifts it evenly
    (by ``SHADING_TINT`` at most) while a face brightens or darkens and a shadow swings; a
    part added, a tarp, a vehicle bring another colour to some of its pixels."""
    dc = (now - before).reshape(-1, 2)
    shift = np.median(dc, axis=0)
    moved = np.abs(dc - shift).max(axis=1) > COLOUR_MOVED
    return bool(np.all(np.abs(shift) <= SHADING_TINT)) and float(moved.mean()) <= COLOUR_MOVED_SHARE


GONE_CLOSER = 0.8  # a place this much closer to one look than to the other looks like it


def looks_gone(cur: np.ndarray, before: np.ndarray | None, after: np.ndarray) -> bool | None:
    """Does a confirmed structure's place look as before it (True), as when it was
    confirmed (False), or like neither (None)? Without a look from before, a place that
    keeps the structure's own texture still has the structure."""
    to_after = texture_distance(cur, after)
    if before is None:
        return to_after >= TEXTURE_KEPT
    to_before = texture_distance(cur, before)
    if to_before < GONE_CLOSER * to_after:
        return True
    if to_after < GONE_CLOSER * to_before:
        return False
    return None

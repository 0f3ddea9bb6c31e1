"""Tracking: a change becomes a detection only after it stays at a stable place.

Each stable changed region starts (or feeds) a :class:`Track`. A track is *stable*
while its box stays put and its texture matches the template taken when it settled
(one template per light mode, so dusk does not unsettle it); moving, growing a lot or
changing its look restarts the clock. A track is confirmed once it has been stable for
``confirm_after`` seconds of stream time, is seen in the current sample, has been seen
in light like its reference's, and is neither transient (people, vehicles), a light
source, nor only light or shadow on the same surface. Samples in which the track's
place cannot be compared (a reference still warming up after dusk) count neither way;
up to ``max_missed`` comparable samples without it are tolerated. A confirmed track is
known: it never fires again. If the place then changes back towards what it looked
like before, for ``confirm_after`` again, the track reports ``gone``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from detector import boxes as bx
from detector.boxes import Box
from detector.events import Event
from detector.frames import LightMode, is_light_source
from detector.tracks import (
    Observation,
    Track,
    TrackState,
    explained_by_light,
    grown_by_light,
    looks_gone,
    texture_distance,
    turned_back,
)

LOOK_CHANGED = 0.5  # normalised grey difference to its template that counts as changed
GROWTH_WINDOW = 86400.0  # s after confirmation during which a structure may still grow
LOOK_FLOOR = 0.06  # a place unknown to the reference keeps its look within this distance …
LOOK_JUMP = 4.0  # … or this many times its usual distance to its template
LOOK_WINDOW = 9  # the transient model's latest looks that decide (5 let a van seen in 4 of 7 go)
MATCHED_SAMPLES = 3  # samples lit like its reference's a track needs before it is confirmed
GONE_CHANGED = 0.35  # share of a confirmed box changed that may mean it is gone (its look tells)
Refs = Mapping[LightMode, np.ndarray] | None  # references' pictures by light mode


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
        self._latest: Observation | None = None  # the latest sample observed

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
        self._seen, self._latest = set(), obs
        for box, zone, strength in obs.regions:
            owner = self._merge_owners(box, obs.t)
            if owner is None:
                self._seen.add(self._start(box, zone, strength, obs).id)
            elif owner.id in self._seen:  # another part of a track started in this sample
                owner.box = bx.union([owner.box, box])
                owner.take_look(obs)
            elif owner.state is TrackState.PENDING:
                matched.setdefault(owner.id, []).append((box, strength))
        started = set(self._seen)
        for track in list(self.tracks):
            if track.state is TrackState.CONFIRMED:
                self._watch_confirmed(track, obs)
            elif track.id not in started:
                self._follow(track, matched.get(track.id, []), obs)

    def _merge_owners(self, box: Box, t: float) -> Track | None:
        """The track ``box`` belongs to; pending tracks it joins are merged into the oldest
        (lights and mere light or shadow stay apart: they never make a structure bigger;
        in unsteady light none are merged)."""
        # a change on or just beside a known structure (its shadow as the sun moves, an
        # edge the box missed) is that structure, unless it is at least half its size; while
        # the structure is new, a change of any size up to its own size away (a slow build
        # is reported once, when its first part has stood for confirm_after, and what is
        # added later is that build, also a course a little above the part confirmed)
        confirmed = [
            k
            for k in self.confirmed
            if bx.overlap(box, k.box) > 0.3
            or (self._growing(k, t) and bx.touch(box, k.box, max(self.touch, bx.side(k.box))))
            or (bx.touch(box, k.box, self.touch) and bx.area(box) < 0.5 * bx.area(k.box))
        ]
        if confirmed:
            return max(confirmed, key=lambda k: bx.overlap(box, k.box))
        owners = [
            k
            for k in self.pending
            if not (k.lit or k.illumination) and bx.touch(box, k.box, self.touch)
        ]
        if not owners:
            return None
        owners.sort(key=lambda k: k.first_seen)
        keep = owners[0]
        if self._latest is not None and not self._latest.light_ok:
            # in unsteady light (dusk, a passing cloud) candidates are not merged: a lamp or
            # a window lit beside a new extension would restart its clock
            return keep
        for other in owners[1:]:
            # a part beside it is growth, timed from that part; one on its own place
            # (started while it counted as light: a cloud's shadow over it) is itself
            if not self._settled(keep.box, other.box):
                keep.stable_since = max(keep.stable_since, other.stable_since)
            keep.box = bx.union([keep.box, other.box])
            keep.matched = max(keep.matched, other.matched)
            keep.solid |= other.solid
            keep.templates = {}
            self.tracks.remove(other)
            self._seen.discard(other.id)
        return keep

    @staticmethod
    def _growing(track: Track, t: float) -> bool:
        """Was ``track`` confirmed recently enough that what appears beside it is its growth?"""
        return track.confirmed_at is not None and t - track.confirmed_at < GROWTH_WINDOW

    def _start(self, box: Box, zone: str, strength: float, obs: Observation) -> Track:
        track = Track(self._next_id, zone, box, obs.t, obs.t, obs.t, strength=strength)
        track.matched = int(obs.light_like)
        track.judge_light(obs)
        track.take_look(obs)
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
        if track.misses:
            # missing where last compared: its look alone cannot bring it back (the place
            # keeps its look when nothing is there at all — a cloud's edge that has passed)
            return None
        template = track.templates.get(obs.mode)
        if template is None:
            track.take_look(obs)
            return True
        # it keeps its look when it differs from the template no more than it usually does:
        # a dim van leaving an infrared view changes a big box only a little, but at once
        d = texture_distance(track.crop(obs.norm), template)
        if d > min(self.settle_texture, max(LOOK_FLOOR, LOOK_JUMP * track.look_noise)):
            return False
        track.look_noise += 0.2 * (d - track.look_noise)
        return True

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
        comparable = self.comparable(track, obs)
        if comparable:
            track.matched += int(obs.light_like)
            track.judge_light(obs)
        track.note_look(obs, comparable)
        track.last_seen = obs.t
        self._seen.add(track.id)
        if parts:
            track.strength = max(s for _, s in parts)
            new_box = bx.union([b for b, _ in parts])
            if not obs.light_ok and not self._settled(track.box, new_box):
                new_box = track.box  # in unsteady light it keeps its box (and its clock)
            if self._moved_or_grown(track, new_box, obs):
                return
        template = track.templates.get(obs.mode)
        cur = track.crop(obs.norm)
        if template is None:
            track.take_look(obs)
        elif texture_distance(cur, template) > self.settle_texture:
            # its look changed: light or shadow over the place (the sun moved) leaves the
            # clock running; anything else (more of it built) restarts it — by day from the
            # sample since which its look and colour have been kept from sample to sample,
            # when that is later than the clock ran from (a template taken before its last
            # part was added, its shading swinging slowly since)
            moved = np.abs(cur - template) > LOOK_CHANGED
            chroma = None if obs.chroma_diff is None else track.crop(obs.chroma_diff)
            if self.comparable(track, obs) and explained_by_light(
                cur, track.crop(obs.reference), moved, chroma
            ):
                track.take_look(obs)
            else:
                self._resettle(track, track.box, obs, since=track.steady_since)

    def _moved_or_grown(self, track: Track, new_box: Box, obs: Observation) -> bool:
        """Follow the region's extent; True when its stability clock had to restart.

        Seen only in part (dusk, occlusion): the box stays. Grown a little around the
        same place (a shadow lengthening, a last part added): the box grows, the clock
        runs on. Grown a lot or moved (still being built, or not one object): restart.
        """
        if self._settled(track.box, new_box):
            return False
        iou = bx.iou(new_box, track.box)
        if iou >= 0.5 and bx.inside(track.box, new_box) >= 0.9:
            track.box = bx.union([track.box, new_box])
            track.take_look(obs, fresh=True)
            return False
        if self.comparable(track, obs):
            if grown_by_light(track.box, new_box, obs):
                return False  # its shadow swung round as the sun moved: the box and clock stay
            core = bx.common(track.box, new_box)  # what it keeps when a side turned back
            sun = obs.mode is LightMode.DAY  # by day: shadows that move with the sun
            if sun and core and self._settled(core, new_box) and turned_back(track.box, core, obs):
                track.box = new_box  # its morning shadow left, the rest is the same place
                track.take_look(obs, fresh=True)
                return False
        self._resettle(track, new_box, obs)
        return True

    def _settled(self, box: Box, new_box: Box) -> bool:
        """Is ``new_box`` the same place as ``box`` (inside it, or overlapping it closely)?"""
        return bx.inside(new_box, box) >= 0.9 or bx.iou(new_box, box) >= self.settle_iou

    def _resettle(
        self, track: Track, box: Box, obs: Observation, since: float | None = None
    ) -> None:
        """The region moved, grew or changed its look: its stability clock restarts, now or
        ``since`` (when that was the last real change; never earlier than it ran from)."""
        track.box = box
        track.stable_since = obs.t if since is None else max(track.stable_since, since)
        track.take_look(obs, fresh=True)
        track.transient_checked = -(10**9)
        track.looks = []

    def confirm_due(self, confirm_after: dict[str, float], t: float) -> list[Track]:
        """Pending tracks seen now, not transient, stable for their zone's ``confirm_after``."""
        due = []
        for track in self.pending:
            wait = confirm_after.get(track.zone)
            if wait is None or track.transient or track.lit or track.illumination:
                continue
            if track.matched < MATCHED_SAMPLES:
                continue  # seen too little in light like its reference's to tell
            if not self.seen_now(track):
                continue
            if t - track.stable_since >= wait:
                due.append(track)
        return self._one_per_place(sorted(due, key=lambda k: k.first_seen))

    def _one_per_place(self, due: list[Track]) -> list[Track]:
        """Due tracks on the same place are one structure: merged into the oldest, so it is
        reported once (parts followed apart where no region joined them, at night); one on
        the place of a confirmed structure is that structure, already reported (a
        candidate that started on it in the sample it was confirmed in)."""
        kept: list[Track] = []
        for track in due:
            if any(bx.overlap(track.box, k.box) > 0.5 for k in self.confirmed):
                self.tracks.remove(track)
                continue
            same = next((k for k in kept if bx.overlap(track.box, k.box) > 0.5), None)
            if same is None:
                kept.append(track)
                continue
            same.box = bx.union([same.box, track.box])
            same.templates = {}
            self.tracks.remove(track)
        return kept

    def mark_confirmed(
        self, track: Track, obs: Observation, event: Event | None, elsewhere: Refs = None
    ) -> None:
        """Remember what was reported (``event``; None: its class does not count in the
        zone: never reported, nor gone) and the place before it — in ``elsewhere``, other
        light modes' references, where this sample's does not know it (confirmed at dusk
        by its look: the night cannot tell more work from a demolition then)."""
        track.state = TrackState.CONFIRMED
        track.confirmed_at = obs.t
        track.reported = event is not None
        if event is not None:
            track.label, track.score = event.label, event.score
        known = {obs.mode: obs.reference} if self.comparable(track, obs) else elsewhere or {}
        track.before = {mode: track.crop(ref).copy() for mode, ref in known.items()}
        track.take_look(obs, fresh=True)

    def _watch_confirmed(self, track: Track, obs: Observation) -> None:
        """Look for the confirmed structure's disappearance (changed back towards before)."""
        if not self.comparable(track, obs):
            return
        before = track.before.get(obs.mode)
        if before is None and track.before:
            # what stood here before is known in another light mode only: this one (a
            # night learnt after the confirmation) cannot tell a demolition from more work
            return
        gone = float(track.crop(obs.changed).mean()) >= GONE_CHANGED
        after = track.templates.get(obs.mode)
        if gone and after is not None:
            verdict = looks_gone(track.crop(obs.norm), before, after)
            if verdict is None:
                return  # like neither (a cloud's shadow, a person over it): cannot tell
            gone = verdict
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

    def apply_transient(self, verdicts: Mapping[int, bool], sample: int) -> None:
        """The transient model's verdicts (track id → transient) of sample ``sample`` (the
        latest observed): a transient track's stability clock restarts (only time without
        them counts).

        A small model misses a parked van now and then (shade, a cloud, dusk), and sees a
        truck in an excavator now and then; one look must not decide either. A track
        found transient stays so while most of its latest ``LOOK_WINDOW`` looks found
        people, vehicles or animals over it, and where the reference of this light mode
        does not know its place (an infrared night after a day) a look that finds nothing
        does not clear it: the model's misses there say nothing about what stands."""
        obs = self._latest
        for track in self.pending:
            if track.id not in verdicts:
                continue
            track.transient_checked = sample
            found = verdicts[track.id]
            unknown = obs is not None and not self.comparable(track, obs)
            if not found and track.transient and unknown:
                continue
            track.looks = [*track.looks, found][-LOOK_WINDOW:]
            track.transient = found or 2 * sum(track.looks) > len(track.looks)
            if found:
                track.stable_since = track.last_seen

    def flag_lights(self, gray: np.ndarray, luma: float) -> None:
        """Pending tracks seen now that are a light source in a dim frame (never confirmed)."""
        for track in self.pending:
            if self.seen_now(track) and not track.lit:
                track.lit = is_light_source(gray, track.box, luma)

    def clear(self) -> None:
        """Forget every track (the camera looks at another place now)."""
        self.tracks.clear()
        self._seen, self._latest = set(), None

    def remove(self, track: Track) -> None:
        self.tracks.remove(track)

    def to_json(self) -> dict[str, Any]:
        return {"next_id": self._next_id, "tracks": [k.to_json() for k in self.tracks]}

    def load_json(self, d: dict[str, Any]) -> None:
        self.tracks = [Track.from_json(k) for k in d.get("tracks", [])]
        self._next_id = max([int(d.get("next_id", 1))] + [k.id + 1 for k in self.tracks])

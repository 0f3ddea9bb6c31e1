"""The per-camera pipeline: sampled frames in, ``confirmed`` / ``gone`` events out.

One :meth:`CameraPipeline.process` call per sampled frame: prepare (downscale,
normalise, light mode) → register onto that mode's reference → texture change inside
the zones → stable regions → tracks (transient model only for unexplained regions)
→ confirmation / disappearance → evidence → slow reference update. See
``docs/detector.md`` for the algorithm and its settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from detector.backends.base import Backend
from detector.change import ChangeFinder, ChangeResult, ViewWatch
from detector.evidence import ClipSource, EvidenceWriter
from detector.frames import (
    LightMode,
    LightThresholds,
    LightTrend,
    Prepared,
    is_light_source,
    prepare,
)
from detector.persistence import Observation, Tracker
from detector.reference import Reference, ReferenceSet, absorb_rates, region_mask, sample_weight
from detector.registration import NO_SHIFT, Registrar, Shift
from detector.reporting import EventMaker, Labeler, empty_events
from detector.settings import DetectorSettings, ZoneOverrides
from detector.tracks import Track
from detector.transient import TransientFilter
from detector.types import Detections
from detector.zonemaps import ZoneMaps
from geofence import Mask, Zone, ZoneSet
from streams.clock import Clock, SystemClock

EVIDENCE_WIDTH = 960
COLOR_EVERY = 8  # samples between two updates of the reference's colour picture


class CameraPipeline:
    """Finds new structures in one camera's sampled frames (see module docstring).

    ``zones`` / ``masks``: the camera's geofence (fractions or pixels). ``zone_overrides``:
    per-zone detector settings by zone id. ``transient``: COCO detector whose people,
    vehicles and animals are ignored. ``labeler``: names confirmed changes (a
    ``detector.structure.StructureLabeler``). ``ring``: packet ring buffer for clips.
    ``reference_dir``: where references and tracks are kept across restarts.
    ``evidence_dir``: where evidence folders go (None: no evidence written).
    ``clock``: wall time for evidence folder names when ``process`` gets no ``wall``.
    """

    def __init__(
        self,
        camera: str,
        zones: Sequence[Zone],
        settings: DetectorSettings,
        *,
        masks: Sequence[Mask] = (),
        zone_overrides: Mapping[str, ZoneOverrides] | None = None,
        transient: Backend | None = None,
        labeler: Labeler | None = None,
        ring: ClipSource | None = None,
        reference_dir: Path | None = None,
        evidence_dir: Path | None = None,
        clock: Clock | None = None,
        save_every: int = 100,
    ) -> None:
        if not zones:
            raise ValueError("zones: a camera pipeline needs at least one zone, got none")
        if save_every < 1:
            raise ValueError(f"save_every must be ≥ 1 sample, got {save_every}")
        unknown = sorted(set(zone_overrides or {}) - {z.id for z in zones})
        if unknown:
            known = ", ".join(z.id for z in zones)
            raise ValueError(f"zone_overrides: no zone {unknown} among the zones ({known})")
        self.camera = camera
        self.zones, self.masks = list(zones), list(masks)
        self.settings = settings
        self.zone_overrides = dict(zone_overrides or {})
        self.transient = None if transient is None else TransientFilter(transient)
        self.labeler = labeler
        self.reference_dir = None if reference_dir is None else Path(reference_dir) / camera
        self.clock = clock or SystemClock()
        self.save_every = save_every
        self.evidence = (
            None if evidence_dir is None else EvidenceWriter(Path(evidence_dir), camera, ring=ring)
        )
        self.light = LightThresholds()
        self.registrar = Registrar()
        self.tracker = Tracker(max_missed=settings.max_missed)
        self.mode: LightMode | None = None
        self.samples = 0
        self.last_shift: Shift = NO_SHIFT
        self._maps: ZoneMaps | None = None
        self._refs: ReferenceSet | None = None
        self._finder: ChangeFinder | None = None
        self._events: EventMaker | None = None
        self._frame_size: tuple[int, int] | None = None
        self._chroma = np.zeros((1, 1, 2), np.float32)  # the current sample's, aligned
        self._last_t: float | None = None
        self._in_view = np.ones((1, 1), bool)
        self._gray = np.zeros((1, 1), np.uint8)
        self._luma = 0.0
        self._changed = np.zeros((1, 1), bool)
        self._trend = LightTrend()
        self.view = ViewWatch(settings.stable_samples)

    # ----------------------------------------------------------------- set-up
    def _setup(self, frame: np.ndarray, prep: Prepared) -> None:
        h0, w0 = frame.shape[:2]
        shape = prep.norm.shape
        zoneset = ZoneSet(self.zones, self.masks, w0, h0)
        self._maps = ZoneMaps(zoneset, self.settings, self.zone_overrides, shape)
        ew = min(w0, EVIDENCE_WIDTH)
        color_shape = (max(8, round(h0 * ew / w0)), ew)
        self._refs = ReferenceSet(shape, color_shape, self.settings.warmup_samples)
        self._finder = ChangeFinder(shape, stable_samples=self.settings.stable_samples)
        self._events = EventMaker(self.camera, self._maps, self.settings, self.labeler)
        self._frame_size = (w0, h0)
        self._restore()

    def _restore(self) -> None:
        assert self._refs is not None
        if self.reference_dir is None:
            return
        if self._refs.load(self.reference_dir):
            self.tracker.load(self.reference_dir)

    def save(self) -> None:
        """Write references and tracks to ``reference_dir`` (no-op without one)."""
        if self.reference_dir is None or self._refs is None:
            return
        self._refs.save(self.reference_dir)
        self.tracker.save(self.reference_dir)

    def close(self) -> None:
        """Save state and export the clips still waiting for their end."""
        self.save()
        if self.evidence is not None:
            self.evidence.flush(None)

    def __enter__(self) -> CameraPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ steps
    def process(
        self,
        frame_bgr: np.ndarray,
        t: float,
        *,
        wall: float | None = None,
        pts: float | None = None,
    ) -> Detections:
        """Analyse one sampled frame taken at stream time ``t`` (seconds); return its events.

        ``wall``: clock time of the frame (evidence folder names; default: the clock).
        ``pts``: the source's own stream time for ring-buffer clips (default ``t``).
        """
        prep = prepare(frame_bgr, self.settings.analysis_width)
        if self._maps is None:
            self._setup(frame_bgr, prep)
        elif (frame_bgr.shape[1], frame_bgr.shape[0]) != self._frame_size:
            raise ValueError(
                f"frame_bgr: size changed from {self._frame_size} to "
                f"{frame_bgr.shape[1]}x{frame_bgr.shape[0]} (camera {self.camera})"
            )
        assert self._refs is not None
        self.samples += 1
        pts = t if pts is None else pts
        if self.evidence is not None:
            self.evidence.flush(pts)
        mode = self.light.classify(prep.luma, prep.chroma, self.mode)
        if mode is not self.mode and self._finder is not None:
            self._finder.reset()
            self.view.reset()
        self.mode = mode
        ref = self._refs.get(mode)
        if not ref.ready:
            self._warm_up(ref, frame_bgr, prep)
            return empty_events()
        events = self._analyse(ref, frame_bgr, prep, t, wall, pts)
        if self.samples % self.save_every == 0:
            self.save()
        return events

    def _evidence_color(self, frame: np.ndarray, shift: Shift) -> np.ndarray:
        assert self._refs is not None
        h, w = self._refs.color_shape
        small_shift = shift.scaled(w / self._refs.shape[1])
        return Registrar.resized(frame, (w, h), small_shift, cv2.INTER_AREA)

    def _warm_up(self, ref: Reference, frame: np.ndarray, prep: Prepared) -> None:
        first = ref.first_warmup()
        shift = NO_SHIFT if first is None else self.registrar.estimate(prep.norm, first)
        aligned = Registrar.align(prep.norm, shift)[0]
        chroma = Registrar.align(prep.chroma_map, shift)[0]
        ref.add_warmup(aligned, chroma, self._evidence_color(frame, shift), prep.luma)
        if ref.ready:  # learnt while these were pending: it does not know what was before
            for track in self.tracker.pending:
                ref.forget(track.box_mask(ref.shape))

    def _analyse(
        self,
        ref: Reference,
        frame: np.ndarray,
        prep: Prepared,
        t: float,
        wall: float | None,
        pts: float,
    ) -> Detections:
        assert self._maps is not None and self._finder is not None and self.mode is not None
        shift = self.registrar.estimate(prep.norm, ref.mean)
        self.last_shift = shift
        aligned, in_view = Registrar.align(prep.norm, shift)
        self._gray, self._luma = Registrar.align(prep.gray, shift)[0], prep.luma
        self._in_view = in_view
        self._chroma = Registrar.align(prep.chroma_map, shift)[0]
        comparable = ref.valid() & in_view & self._maps.watch
        day = self.mode is LightMode.DAY
        result = self._finder.compare(
            aligned,
            ref.mean,
            self._maps.threshold,
            comparable,
            self._maps.smallest_area_px,
            self._chroma if day else None,
            ref.chroma_map if day else None,
        )
        steady = self._steady_light(ref, t)
        if self._view_changed(result.distance, ref.valid() & in_view, shift.response, steady):
            return empty_events()
        self._changed = result.changed
        obs = self._observation(t, aligned, ref, result, comparable, shift, steady)
        self.tracker.observe(obs)
        for track in self.tracker.pending:
            if self.tracker.seen_now(track) and not track.lit:
                track.lit = is_light_source(self._gray, track.box, self._luma)
        self._check_transients(frame, shift)
        events = self._resolve(obs, ref, frame, shift, wall, pts)
        self._update_reference(ref, frame, aligned, result, in_view, shift, t)
        return events

    def _view_changed(
        self, distance: np.ndarray, valid: np.ndarray, response: float, steady: bool
    ) -> bool:
        """Another view (camera re-aimed, moved, covered): relearn this mode's reference
        from scratch and drop pending candidates (see ``ViewWatch``)."""
        assert self._refs is not None and self._finder is not None and self.mode is not None
        if not self.view.changed(distance, valid, response, steady):
            return False
        self._refs.modes.pop(self.mode, None)
        self._finder.reset()
        for track in self.tracker.pending:
            self.tracker.remove(track)
        return True

    def _observation(
        self,
        t: float,
        aligned: np.ndarray,
        ref: Reference,
        result: ChangeResult,
        comparable: np.ndarray,
        shift: Shift,
        steady: bool,
    ) -> Observation:
        assert self._maps is not None and self.mode is not None
        boxes = [r.box for r in result.regions]
        zones = self._maps.assign(boxes, [r.area for r in result.regions], shift.dx, shift.dy)
        regions = [(r.box, z, r.strength) for r, z in zip(result.regions, zones, strict=True) if z]
        visible = self._in_view & self._maps.watch
        return Observation(
            t,
            self.samples,
            self.mode,
            aligned,
            ref.mean,
            result.changed,
            comparable,
            visible,
            regions,
            steady,
            ref.light_matches(self._luma),
            (self._chroma - ref.chroma_map) if self.mode is LightMode.DAY else None,
        )

    def _steady_light(self, ref: Reference, t: float) -> bool:
        """Light like the reference's and not changing fast: otherwise candidates may not
        grow, merge or qualify for confirmation."""
        steady = self._trend.steady(self._luma, t)
        return steady and ref.light_matches(self._luma)

    def _check_transients(self, frame: np.ndarray, shift: Shift) -> None:
        """Run the transient model on pending tracks seen now that are due for a look."""
        if self.transient is None:
            return
        assert self._maps is not None
        seen = [k for k in self.tracker.pending if self.tracker.seen_now(k)]
        self.transient.review(
            frame,
            seen,
            self._changed,
            self._maps.scale,
            (shift.dx, shift.dy),
            self.samples,
            self.labeler,
        )

    def _resolve(
        self,
        obs: Observation,
        ref: Reference,
        frame: np.ndarray,
        shift: Shift,
        wall: float | None,
        pts: float,
    ) -> Detections:
        """Confirm due tracks and report gone ones; absorb both into the references."""
        assert self._maps is not None and self._events is not None
        records: list[dict[str, Any]] = []
        for track in self.tracker.confirm_due(self._maps.confirm_after, obs.t):
            before = self._before_color(self._knowing(ref, track, obs), shift)
            record = self._events.confirmed(track, frame, before, shift, obs.t)
            self.tracker.mark_confirmed(track, obs)
            self._absorb_track(track.box, obs, frame, shift)
            if record is not None:
                records.append(self._with_evidence(record, frame, before, wall, pts))
        for track in self.tracker.gone_due(self._maps.confirm_after, obs.t):
            before = self._before_color(ref, shift)
            record = self._events.gone(track, frame, shift, obs.t)
            self.tracker.remove(track)
            self._absorb_track(track.box, obs, frame, shift)
            records.append(self._with_evidence(record, frame, before, wall, pts))
        return self._events.to_detections(records)

    def _knowing(self, ref: Reference, track: Track, obs: Observation) -> Reference:
        """The reference whose picture shows the place before: this mode's, unless it was
        learnt while the track was pending (dusk), then another mode's that knows it."""
        assert self._refs is not None and self.mode is not None
        if self.tracker.comparable(track, obs):
            return ref
        for other in self._refs.others(self.mode):
            if float(track.crop(other.valid()).mean()) >= 0.6:
                return other
        return ref

    def _before_color(self, ref: Reference, shift: Shift) -> np.ndarray:
        """The reference picture at source size, moved like the current frame."""
        assert self._frame_size is not None and self._refs is not None
        back = shift.scaled(-self._frame_size[0] / self._refs.shape[1])
        return Registrar.resized(ref.color, self._frame_size, back, cv2.INTER_LINEAR)

    def _with_evidence(
        self,
        record: dict[str, Any],
        frame: np.ndarray,
        before: np.ndarray,
        wall: float | None,
        pts: float,
    ) -> dict[str, Any]:
        if self.evidence is None or self._maps is None:
            return {**record, "evidence": None}
        when = self.clock.now() if wall is None else wall
        folder = self.evidence.write(record, frame, before, self._maps.zoneset, wall=when, pts=pts)
        return {**record, "evidence": str(folder)}

    def _absorb_track(
        self, box: tuple[int, int, int, int], obs: Observation, frame: np.ndarray, shift: Shift
    ) -> None:
        """Take the region as it is now into this mode's reference; other modes relearn it."""
        assert self._refs is not None and self.mode is not None
        mask = region_mask(box, obs.changed)
        color = self._evidence_color(frame, shift)
        self._refs.take_region(self.mode, mask, obs.norm, self._chroma, color)
        assert self._finder is not None
        self._finder.streak[mask] = 0

    def _update_reference(
        self,
        ref: Reference,
        frame: np.ndarray,
        aligned: np.ndarray,
        result: ChangeResult,
        in_view: np.ndarray,
        shift: Shift,
        t: float,
    ) -> None:
        """Slow update: unchanged pixels with time constant ``reference_adapt``, changed ones
        4× slower, pending regions and changed parts of confirmed ones not at all."""
        dt = 0.0 if self._last_t is None else t - self._last_t
        self._last_t = t
        weight = sample_weight(dt, self.settings.reference_adapt)
        rate = absorb_rates(weight, result.changed, in_view, self.tracker.tracks)
        ref.absorb(aligned, self._chroma, rate, self._luma)
        if self.samples % COLOR_EVERY == 0:  # the "before" picture: the same, less often
            ref.absorb_color(
                self._evidence_color(frame, shift), -np.expm1(COLOR_EVERY * np.log1p(-rate))
            )

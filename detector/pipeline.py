"""The per-camera pipeline: sampled frames in, ``confirmed`` / ``gone`` events out.

One :meth:`CameraPipeline.process` call per sampled frame: prepare (downscale,
normalise) → is it the camera's view (``view.py``)? → light mode → warm up, or
register onto that mode's reference and score the change (a frozen
:class:`~detector.sample.Sample` from here on) → tracks (``tracking.py``; transient
model only for unexplained regions) → confirmation (ghosts absorbed, ``ghosts.py``) /
disappearance → evidence → slow reference update. Per-camera state
(:class:`~detector.sample.CameraState`) is built once, at the first frame. See
``docs/detector.md`` for the algorithm and its settings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from detector.backends.base import Backend
from detector.change import ChangeFinder
from detector.events import Event, empty_events
from detector.evidence import ClipSource, EvidenceWriter
from detector.frames import (
    LightMode,
    LightThresholds,
    LightTrend,
    Prepared,
    prepare,
)
from detector.ghosts import Look, departed
from detector.reference import AdaptClock, Reference, ReferenceSet, absorb_rates, region_mask
from detector.registration import NO_SHIFT, Registrar, Shift
from detector.reporting import EventMaker, Labeler
from detector.sample import CameraState, Sample
from detector.settings import DetectorSettings, ZoneOverrides
from detector.state import StateStore
from detector.tracking import Observation, Tracker
from detector.tracks import Track
from detector.transient import TransientFilter
from detector.types import Detections
from detector.view import ViewGuard, ViewState
from detector.zonemaps import ZoneMaps
from geofence import Mask, Zone, ZoneSet
from streams.clock import Clock, SystemClock
from streams.paths import inside_root
from streams.picture import Picture

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
    ``timezone``: the site's time zone (IANA name) in which evidence folders are named.
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
        timezone: str = "UTC",
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
        self.reference_dir = None if reference_dir is None else inside_root(reference_dir, camera)
        self.clock = clock or SystemClock()
        self.save_every = save_every
        self.evidence = (
            None
            if evidence_dir is None
            else EvidenceWriter(Path(evidence_dir), camera, ring=ring, tz=timezone)
        )
        self.light = LightThresholds()
        self.registrar = Registrar()
        self.tracker = Tracker(max_missed=settings.max_missed)
        self.mode: LightMode | None = None
        self.samples = 0
        self.last_shift: Shift = NO_SHIFT
        self._cam: CameraState | None = None  # built at the first frame (its size fixes it)
        self._adapt = AdaptClock(settings.reference_adapt)  # the slow update's weights
        self._trend = LightTrend()
        self.view = ViewGuard(camera, settings.reaim_after)
        self.departures = 0  # changes found to be a transient object leaving: absorbed

    # ----------------------------------------------------------------- set-up
    def _setup(self, frame: Picture, prep: Prepared) -> CameraState:
        w0, h0 = frame.size
        shape = prep.norm.shape
        zoneset = ZoneSet(self.zones, self.masks, w0, h0)
        maps = ZoneMaps(zoneset, self.settings, self.zone_overrides, shape)
        ew = min(w0, EVIDENCE_WIDTH)
        color_shape = (max(8, round(h0 * ew / w0)), ew)
        self._cam = CameraState(
            maps,
            ReferenceSet(shape, color_shape, self.settings.warmup_samples),
            ChangeFinder(shape, stable_samples=self.settings.stable_samples),
            EventMaker(self.camera, maps, self.settings, self.labeler),
            (w0, h0),
        )
        self._restore()
        return self._cam

    @property
    def cam(self) -> CameraState:
        """The per-camera state (zone maps, references, change finder, reporter)."""
        if self._cam is None:
            raise RuntimeError(f"camera {self.camera}: no frame processed yet")
        return self._cam

    def _restore(self) -> None:
        if self.reference_dir is not None and self._cam is not None:
            StateStore(self.reference_dir).load(self._cam.refs, self.tracker)

    def save(self) -> None:
        """Write references and tracks to ``reference_dir`` (no-op without one)."""
        if self.reference_dir is not None and self._cam is not None:
            StateStore(self.reference_dir).save(self._cam.refs, self.tracker)

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
        frame: Picture | np.ndarray,
        t: float,
        *,
        wall: float | None = None,
        pts: float | None = None,
    ) -> Detections:
        """Analyse one sampled frame taken at stream time ``t`` (seconds); return its events.

        ``frame``: the decoded picture (``SampledFrame.picture``: analysed at the analysis
        size straight from the decoder's YUV, converted to full-size BGR only for an
        event's evidence or the transient model) or a BGR uint8 H×W×3 array.
        ``wall``: clock time of the frame (evidence folder names; default: the clock).
        ``pts``: the source's own stream time for ring-buffer clips (default ``t``).
        The steps, as ``docs/detector.md`` numbers them: prepare and tell the view (0–2),
        warm up or compare with the reference (3–5), follow the tracks (6–7), confirm,
        report gone and write evidence (9–10), update the reference (3).
        """
        picture = Picture.of(frame)
        prep = prepare(picture, self.settings.analysis_width)
        cam = self._cam or self._setup(picture, prep)
        if picture.size != cam.frame_size:
            raise ValueError(
                f"frame: size changed from {cam.frame_size} to "
                f"{picture.width}x{picture.height} (camera {self.camera})"
            )
        self.samples += 1
        pts = t if pts is None else pts
        if self.evidence is not None:
            self.evidence.flush(pts)
        state = self.view.check_frame(prep)
        if state is not ViewState.OK:  # covered, blinded, frozen: nothing to learn or prove
            self.view.skipped(state, t)
            return empty_events()
        mode = self.light.classify(prep.luma, prep.chroma, self.mode)
        ref = cam.refs.get(mode)
        if not ref.ready:
            self._enter_mode(cam, mode)
            self._warm_up(cam, ref, picture, prep)
            self.view.in_view(prep, None)
            return empty_events()
        sample = self._compare(cam, Sample.Frame(t, wall, pts, picture, prep), mode, ref)
        if sample is None:  # another view: as if this sample had not been taken
            return empty_events()
        obs = self._observe(cam, sample)
        events = self._resolve(cam, sample, obs)
        self._update_reference(cam, sample)
        if self.samples % self.save_every == 0:
            self.save()
        return events

    def _warm_up(self, cam: CameraState, ref: Reference, frame: Picture, prep: Prepared) -> None:
        first = ref.first_warmup()
        shift = NO_SHIFT if first is None else self.registrar.estimate(prep.norm, first)
        aligned = Registrar.align(prep.norm, shift)[0]
        chroma = Registrar.align(prep.chroma_map, shift)[0]
        ref.add_warmup(aligned, chroma, cam.refs.picture(frame, shift), prep.luma)
        if ref.ready:  # learnt while these were pending: it does not know what was before
            for track in self.tracker.pending:
                ref.forget(track.box_mask(ref.shape))

    def _enter_mode(self, cam: CameraState, mode: LightMode) -> None:
        """Another light mode: change streaks and the usual correlation peak start again."""
        if mode is not self.mode:
            cam.finder.reset()
            self.view.reset_peak()
        self.mode = mode

    def _compare(
        self, cam: CameraState, taken: Sample.Frame, mode: LightMode, ref: Reference
    ) -> Sample | None:
        """Register onto the mode's reference and score the change; None when the sample
        shows another view (then nothing it did stays: streaks, mode, light trend)."""
        prep = taken.prep
        streak, previous = cam.finder.streak.copy(), self.mode
        self._enter_mode(cam, mode)
        shift = self.registrar.estimate(prep.norm, ref.mean)
        aligned, in_view = Registrar.align(prep.norm, shift)
        chroma = Registrar.align(prep.chroma_map, shift)[0]
        comparable = ref.valid() & in_view & cam.maps.watch
        day = mode is LightMode.DAY
        result = cam.finder.compare(
            aligned,
            ref.mean,
            cam.maps.threshold,
            comparable,
            cam.maps.smallest_area_px,
            chroma if day else None,
            ref.chroma_map if day else None,
        )
        peek = self._trend.peek(prep.luma, taken.t) and ref.light_matches(prep.luma)
        away = self.view.check_view(result.distance, ref.valid() & in_view, shift.response, peek)
        if away is not ViewState.OK:
            cam.finder.streak, self.mode = streak, previous
            if self.view.skipped(away, taken.t):
                self._learn_new_view(cam, prep)
            return None
        self.view.in_view(prep, shift.response)
        self.last_shift = shift
        gray = Registrar.align(prep.gray, shift)[0]
        steady = self._trend.steady(prep.luma, taken.t) and ref.light_matches(prep.luma)
        return Sample(
            taken, mode, ref, shift, aligned, chroma, gray, in_view, comparable, result, steady
        )

    def _learn_new_view(self, cam: CameraState, prep: Prepared) -> None:
        """The view never came back (the camera was re-aimed for good): every reference and
        every track belonged to the old view; learn the new one from a fresh warm-up."""
        cam.refs.modes.clear()
        cam.finder.reset()
        self.tracker.clear()
        self._adapt.reset()
        self.view.relearnt(prep)

    def _observe(self, cam: CameraState, s: Sample) -> Observation:
        """Feed the sample's stable regions to the tracker; flag lights and transients."""
        regions = s.result.regions
        zones = cam.maps.assign([r.box for r in regions], [r.area for r in regions], *s.shift.xy)
        obs = Observation(
            s.taken.t,
            self.samples,
            s.mode,
            s.aligned,
            s.ref.mean,
            s.result.changed,
            s.comparable,
            s.in_view & cam.maps.watch,
            [(r.box, z, r.strength) for r, z in zip(regions, zones, strict=True) if z],
            s.steady,
            s.ref.light_matches(s.luma),
            (s.chroma - s.ref.chroma_map) if s.mode is LightMode.DAY else None,
        )
        self.tracker.observe(obs)
        self.tracker.flag_lights(s.gray, s.luma)
        if self.transient is not None:  # pending tracks seen now that are due for a look
            seen = [k for k in self.tracker.pending if self.tracker.seen_now(k)]
            verdicts = self.transient.review(
                s.taken.frame,
                seen,
                s.result.changed,
                cam.maps.scale,
                s.shift.xy,
                self.samples,
                self.labeler,
            )
            self.tracker.apply_transient(verdicts, self.samples)
        return obs

    def _resolve(self, cam: CameraState, s: Sample, obs: Observation) -> Detections:
        """Confirm due tracks and report gone ones; absorb both into the references."""
        events: list[Event] = []
        for track in self.tracker.confirm_due(cam.maps.confirm_after, obs.t):
            knowing = self._knowing(cam, s, track, obs)
            before = self._before(cam, s, knowing)
            if self._departed(cam, s, track, obs, before):  # the scene returned to normal
                self.tracker.remove(track)
                self._absorb_track(cam, s, track.box, relearn=True)
                continue
            event = cam.events.confirmed(track, s.taken.frame.bgr(), before, s.shift, obs.t)
            refs = cam.refs.modes.items()
            elsewhere = {m: r.mean for m, r in refs if r is knowing and m is not s.mode}
            self.tracker.mark_confirmed(track, obs, event, elsewhere)
            self._absorb_track(cam, s, track.box)
            if event is not None:
                events.append(self._with_evidence(cam, s, event, before))
        for track in self.tracker.gone_due(cam.maps.confirm_after, obs.t):
            before = self._before(cam, s, s.ref)
            self.tracker.remove(track)
            self._absorb_track(cam, s, track.box)
            if track.reported:  # never a `gone` for something that was never reported
                event = cam.events.gone(track, s.shift, obs.t)
                events.append(self._with_evidence(cam, s, event, before))
        return cam.events.to_detections(events)

    def _departed(
        self, cam: CameraState, s: Sample, track: Track, obs: Observation, before: np.ndarray
    ) -> bool:
        """Did something leave rather than arrive (``ghosts.departed``)? Counted."""
        day = s.mode is LightMode.DAY  # by day colour counts too
        look = Look(s.aligned, s.ref.mean, *((s.chroma, s.ref.chroma_map) if day else ()))
        comparable = self.tracker.comparable(track, obs)
        changed, scale = s.result.changed, cam.maps.scale
        gone = departed(track, look, comparable, before, self.transient, changed, scale, s.shift)
        self.departures += int(gone)
        return gone

    def _knowing(self, cam: CameraState, s: Sample, track: Track, obs: Observation) -> Reference:
        """The reference whose picture shows the place before the track."""
        if self.tracker.comparable(track, obs):
            return s.ref
        return cam.refs.knowing(s.mode, track.box_mask(s.ref.shape)) or s.ref

    @staticmethod
    def _before(cam: CameraState, s: Sample, ref: Reference) -> np.ndarray:
        return cam.refs.before_picture(ref, s.shift, cam.frame_size)

    def _with_evidence(
        self, cam: CameraState, s: Sample, event: Event, before: np.ndarray
    ) -> Event:
        if self.evidence is None:
            return event
        when = self.clock.now() if s.taken.wall is None else s.taken.wall
        folder = self.evidence.write(
            event, s.taken.frame.bgr(), before, cam.maps.zoneset, wall=when, pts=s.taken.pts
        )
        return event.with_evidence(str(folder))

    def _absorb_track(
        self, cam: CameraState, s: Sample, box: tuple[int, int, int, int], relearn: bool = False
    ) -> None:
        """Take the region as it is now into this mode's reference; other modes relearn it.
        ``relearn`` (a departure: the empty place): this mode relearns it too, from this
        sample and the next ones, so that a cloud's shadow passing in this one does not
        stay in the reference as an edge that would later be taken for a structure."""
        mask = region_mask(box, s.result.changed)
        color = cam.refs.picture(s.taken.frame, s.shift)
        cam.refs.take_region(s.mode, mask, s.aligned, s.chroma, color)
        if relearn:
            s.ref.forget(mask)
        cam.finder.streak[mask] = 0

    def _update_reference(self, cam: CameraState, s: Sample) -> None:
        """Slow update: unchanged pixels with time constant ``reference_adapt``, changed ones
        4× slower, pending regions and changed parts of confirmed ones not at all."""
        rate = absorb_rates(
            self._adapt.weight(s.taken.t), s.result.changed, s.in_view, self.tracker.tracks
        )
        s.ref.absorb(s.aligned, s.chroma, rate, s.luma)
        if self.samples % COLOR_EVERY == 0:  # the "before" picture: the same, less often
            color = cam.refs.picture(s.taken.frame, s.shift)
            s.ref.absorb_color(color, -np.expm1(COLOR_EVERY * np.log1p(-rate)))

"""The long-term reference of one camera: one per light mode, learnt slowly, kept on disk.

A reference holds, per analysis pixel, the normalised grey value the scene usually
has (``mean``) and how many samples have been absorbed into it (``count``); a colour
copy at evidence resolution gives the "before" pictures. A new reference starts
from the per-pixel *median* of its first ``warmup`` samples (registered to the first
one), so people walking through during warm-up do not end up in it. After that it
follows the scene slowly, only where the pipeline says a pixel may be absorbed:
never inside a pending region, never under a transient object.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from detector.frames import LightMode
from detector.registration import Registrar, Shift
from detector.tracks import Track
from streams.picture import Picture


class Reference:
    """One light mode's reference image (analysis size) and its colour copy (evidence size)."""

    def __init__(self, shape: tuple[int, int], color_shape: tuple[int, int], warmup: int) -> None:
        if warmup < 1:
            raise ValueError(f"warmup must be ≥ 1 sample, got {warmup}")
        self.shape = shape
        self.color_shape = color_shape
        self.warmup = warmup
        self.mean = np.zeros(shape, np.float32)
        self.chroma_map = np.zeros((*shape, 2), np.float32)
        self.count = np.zeros(shape, np.uint16)
        self.color = np.zeros((*color_shape, 3), np.uint8)
        self.samples = 0
        self.luma = 0.0  # mean frame luma the reference was learnt at
        self._lumas: list[float] = []
        self._buffer: list[tuple[np.ndarray, np.ndarray, np.ndarray | None]] = []

    @property
    def ready(self) -> bool:
        return self.samples >= self.warmup

    @property
    def warmup_left(self) -> int:
        return max(0, self.warmup - self.samples)

    def first_warmup(self) -> np.ndarray | None:
        """The first buffered warm-up sample (what later warm-up samples are registered to)."""
        return self._buffer[0][0].astype(np.float32) if self._buffer else None

    def add_warmup(
        self, norm: np.ndarray, chroma_map: np.ndarray, color: np.ndarray, luma: float
    ) -> None:
        """Buffer one (registered) warm-up sample; at ``warmup`` samples take the median.

        The analysis maps are kept as float16 and the colour picture of every other
        sample only, so that many cameras warming up at dusk stay light on memory.
        """
        keep_color = self.samples % 2 == 0 or self.warmup == 1
        self._buffer.append(
            (
                norm.astype(np.float16),
                chroma_map.astype(np.float16),
                color.copy() if keep_color else None,
            )
        )
        self._lumas.append(luma)
        self.samples += 1
        if self.samples < self.warmup:
            return
        self.mean = shade_free_median(np.stack([b[0] for b in self._buffer]))
        chroma = np.median(np.stack([b[1] for b in self._buffer]), axis=0)
        self.chroma_map = chroma.astype(np.float32)
        self.color = median_of([b[2] for b in self._buffer if b[2] is not None])
        self.count[:] = self.warmup
        self.luma = float(np.median(self._lumas))
        self._buffer.clear()
        self._lumas.clear()

    def light_matches(self, luma: float) -> bool:
        """Is a frame of mean ``luma`` lit like the frames this reference was learnt from?

        At dusk and dawn a reference learnt in full light meets frames at half the light
        or less: shadows have gone, lamps are on; what looks changed then is not trusted
        on its own.
        """
        return 0.6 * self.luma <= luma <= 1.7 * self.luma + 10.0

    def valid(self) -> np.ndarray:
        """Pixels learnt well enough to compare with (bool h×w)."""
        return self.count >= max(1, self.warmup // 2)

    def absorb(
        self, norm: np.ndarray, chroma_map: np.ndarray, rate: np.ndarray, luma: float
    ) -> None:
        """Blend a sample in with a per-pixel ``rate`` (0 = keep); unlearnt pixels learn fast."""
        self.luma += float(np.mean(rate[::4, ::4])) * (luma - self.luma)
        rate = np.maximum(rate, np.float32(0.0), dtype=np.float32)
        learning = self.count < self.warmup
        if learning.any():  # after the warm-up, once every pixel has been learnt: none
            fast = 1.0 / (self.count.astype(np.float32) + 1.0)
            fast[~learning] = 0.0
            alpha = np.where(rate > 0, np.maximum(rate, fast), 0.0).astype(np.float32)
        else:
            alpha = rate
        step = np.subtract(norm, self.mean, dtype=np.float32)  # in place: no temporaries
        step *= alpha
        self.mean += step
        step2 = np.subtract(chroma_map, self.chroma_map, dtype=np.float32)
        step2 *= alpha[..., None]
        self.chroma_map += step2
        cap = np.iinfo(np.uint16).max - 1
        np.add(self.count, 1, out=self.count, where=(alpha > 0) & (self.count < cap))
        self.samples += 1

    def absorb_color(self, color: np.ndarray, rate: np.ndarray) -> None:
        """Blend the evidence-size colour frame in (``rate`` at analysis size, resized here)."""
        h, w = self.color_shape
        r = cv2.resize(rate.astype(np.float32), (w, h), interpolation=cv2.INTER_NEAREST)
        self.color = np.asarray(cv2.blendLinear(color, self.color, r, 1.0 - r), np.uint8)

    def replace(
        self, mask: np.ndarray, norm: np.ndarray, chroma_map: np.ndarray, color: np.ndarray
    ) -> None:
        """Take the current frame as the reference inside ``mask`` (a confirmed change)."""
        self.mean[mask] = norm[mask]
        self.chroma_map[mask] = chroma_map[mask]
        self.count[mask] = np.maximum(self.count[mask], self.warmup)
        h, w = self.color_shape
        big = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        self.color[big] = color[big]

    def forget(self, mask: np.ndarray) -> None:
        """Mark pixels as unlearnt: they are relearnt from the next samples of this mode."""
        self.count[mask] = 0


class ReferenceSet:
    """The references of one camera (day, night, infrared), saved to and restored from disk."""

    def __init__(self, shape: tuple[int, int], color_shape: tuple[int, int], warmup: int) -> None:
        self.shape = shape
        self.color_shape = color_shape
        self.warmup = warmup
        self.modes: dict[LightMode, Reference] = {}

    def get(self, mode: LightMode) -> Reference:
        ref = self.modes.get(mode)
        if ref is None:
            ref = self.modes[mode] = Reference(self.shape, self.color_shape, self.warmup)
        return ref

    def others(self, mode: LightMode) -> Iterable[Reference]:
        return (r for m, r in self.modes.items() if m is not mode and r.ready)

    def picture(self, frame: Picture | np.ndarray, shift: Shift) -> np.ndarray:
        """``frame`` at the colour pictures' size (area filter; a decoded picture straight
        from its YUV), aligned to the references."""
        h, w = self.color_shape
        small = Picture.of(frame).scaled(w, h)
        return Registrar.align(small, shift.scaled(w / self.shape[1]))[0]

    def before_picture(
        self, ref: Reference, shift: Shift, frame_size: tuple[int, int]
    ) -> np.ndarray:
        """``ref``'s colour picture at source size, moved like the current frame."""
        back = shift.scaled(-frame_size[0] / self.shape[1])
        return Registrar.resized(ref.color, frame_size, back, cv2.INTER_LINEAR)

    def knowing(self, mode: LightMode, box_mask: np.ndarray) -> Reference | None:
        """Another mode's reference that knows the place (``box_mask``), when ``mode``'s
        does not (it was learnt while a candidate stood there, at dusk)."""
        for other in self.others(mode):
            if float(other.valid()[box_mask].mean()) >= 0.6:
                return other
        return None

    def take_region(
        self,
        mode: LightMode,
        mask: np.ndarray,
        norm: np.ndarray,
        chroma_map: np.ndarray,
        color: np.ndarray,
    ) -> None:
        """``mask`` as it is now becomes ``mode``'s reference; other modes relearn it."""
        self.get(mode).replace(mask, norm, chroma_map, color)
        for other in self.others(mode):
            other.forget(mask)

    def save(self, folder: Path) -> None:
        """Write every ready reference as ``<mode>.npz`` (atomically) into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        for mode, ref in self.modes.items():
            if not ref.ready:
                continue
            tmp = folder / f".{mode.value}.tmp.npz"
            np.savez(  # uncompressed: deflating noisy float maps takes 30× as long for a third less
                tmp,
                mean=ref.mean,
                chroma_map=ref.chroma_map,
                count=ref.count,
                color=ref.color,
                samples=ref.samples,
                luma=ref.luma,
            )
            os.replace(tmp, folder / f"{mode.value}.npz")
        meta = {"shape": list(self.shape), "color_shape": list(self.color_shape)}
        write_json(folder / "reference.json", meta)

    def load(self, folder: Path) -> list[LightMode]:
        """Restore references saved for the same image size; return the modes restored."""
        meta_path = folder / "reference.json"
        if not meta_path.is_file():
            return []
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if tuple(meta.get("shape", ())) != self.shape:
            return []
        if tuple(meta.get("color_shape", ())) != self.color_shape:
            return []
        restored = []
        for mode in LightMode:
            path = folder / f"{mode.value}.npz"
            if not path.is_file():
                continue
            with np.load(path) as data:
                ref = self.get(mode)
                ref.mean = data["mean"].astype(np.float32)
                ref.chroma_map = data["chroma_map"].astype(np.float32)
                ref.count = data["count"].astype(np.uint16)
                ref.color = data["color"].astype(np.uint8)
                ref.samples = max(int(data["samples"]), ref.warmup)
                ref.luma = float(data["luma"])
            restored.append(mode)
        return restored


SHADE_SIGMA = 1 / 64  # width of the shading taken out of warm-up samples (of the image width)


def shade_free_median(stack: np.ndarray) -> np.ndarray:
    """Per-pixel median of normalised warm-up samples (n × h × w) after each sample's soft
    shading (a Gaussian blur, ``SHADE_SIGMA`` of the width, of its difference to the
    plain median) is taken out, float32 h × w.

    Cloud shadows passing during a warm-up leave a place shaded in some samples and lit in
    others; where that split is near half, the plain median switches between the two from
    pixel to pixel and draws edges that are in no sample (on a flat wall: a candidate the
    reference never outgrows, since it does not adapt under one). Brought to one light
    first, the samples agree, and the median keeps what the scene shows in most of them;
    people passing stay out as before (the blur spreads them thin).
    """
    samples = stack.astype(np.float32)  # a float16 buffer: NumPy's median is slower on it
    plain = np.median(samples, axis=0).astype(np.float32)
    sigma = max(1.0, SHADE_SIGMA * stack.shape[2])
    for sample in samples:  # in place: one light, sample by sample
        sample -= cv2.GaussianBlur(sample - plain, (0, 0), sigma)
    return np.median(samples, axis=0).astype(np.float32)


def median_of(images: list[np.ndarray]) -> np.ndarray:
    """Per-pixel median of uint8 images, as ``np.median(...).astype(np.uint8)`` gives it.

    Sorted in place of each other by an odd–even transposition network of elementwise
    minima and maxima: for the few warm-up pictures at evidence size (half a million
    pixels × 3) ten times faster than ``np.median``, which selects pixel by pixel.
    """
    s = list(images)
    n = len(s)
    for p in range(n):
        for i in range(p % 2, n - 1, 2):
            s[i], s[i + 1] = np.minimum(s[i], s[i + 1]), np.maximum(s[i], s[i + 1])
    k = n // 2
    if n % 2:
        return s[k].copy()
    return np.mean(np.stack([s[k - 1], s[k]]), axis=0).astype(np.uint8)


def absorb_rates(
    rate: float, changed: np.ndarray, in_view: np.ndarray, tracks: Iterable[Track]
) -> np.ndarray:
    """Per-pixel update weights: ``rate`` where nothing changed, a quarter of it where
    something did, nothing inside a pending track (unless it is only light or shadow and
    was never seen by day as more than that: a cloud's shadow over a pile of materials
    makes it look like shade on the ground for a sample),
    nothing where a confirmed structure's place changed, nothing out of view."""
    out = np.full(changed.shape, rate, np.float32)
    out[changed] = rate / 4
    for track in tracks:
        x1, y1, x2, y2 = track.box
        if track.confirmed_at is None:
            out[y1:y2, x1:x2] = rate if track.illumination and not track.solid else 0.0
        else:
            out[y1:y2, x1:x2][changed[y1:y2, x1:x2]] = 0.0
    out[~in_view] = 0.0
    return out


def region_mask(box: tuple[int, int, int, int], changed: np.ndarray) -> np.ndarray:
    """``box`` plus the changed pixels just around it (up to a quarter of its size away:
    a shadow, an edge the box missed), so a structure taken in cannot fire again."""
    x1, y1, x2, y2 = box
    mx, my = max(2, (x2 - x1) // 4), max(2, (y2 - y1) // 4)
    near = np.zeros(changed.shape, bool)
    near[max(0, y1 - my) : y2 + my, max(0, x1 - mx) : x2 + mx] = True
    mask = near & changed
    mask[y1:y2, x1:x2] = True
    return mask


def sample_weight(dt: float, time_constant: float) -> float:
    """Weight of a sample taken ``dt`` seconds after the last: 1 − exp(−Δt / τ)."""
    dt = min(max(dt, 1e-3), time_constant)
    return float(-np.expm1(-dt / time_constant))


GAP_COUNTS = 900.0  # s: a longer gap between samples counts as this (or two usual intervals)


class AdaptClock:
    """The weights of the slow reference update, sample by sample (``time_constant`` s).

    A gap in the samples — a lens covered for an hour, a PTZ tour, a camera offline —
    counts as ``GAP_COUNTS`` seconds at most (or twice the interval before it, when the
    camera is sampled that sparsely): the first sample after it must not carry an hour's
    weight into the reference (a pending pile taken for a shadow would be half learnt).
    """

    def __init__(self, time_constant: float) -> None:
        self.time_constant = time_constant
        self._last: float | None = None
        self._interval = 0.0

    def weight(self, t: float) -> float:
        dt = 0.0 if self._last is None else t - self._last
        counted = min(dt, max(GAP_COUNTS, 2.0 * self._interval))
        self._last = t
        if dt > 0:
            self._interval = dt
        return sample_weight(counted, self.time_constant)

    def reset(self) -> None:
        self._last = None
        self._interval = 0.0


def write_json(path: Path, obj: object) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)

"""Per-frame composition (light, clouds, actors, camera, sensor noise) and ground truth."""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from synth import noise as nz
from synth.light import expose
from synth.noise import F32, NOISE_BANK, NOISE_SCALE
from synth.truth import GroundTruth, StructureTruth, VehicleTruth, overlap, polygon_mask

if TYPE_CHECKING:
    from synth.renderer import Actor, Renderer

XYXY = tuple[int, int, int, int]


def _cloud_crop(r: Renderer, t: float) -> F32 | None:
    if r.clouds is None:
        return None
    fh, fw = r.clouds.shape
    h, w = r.world.height, r.world.width
    ox = int(t * w / 45.0) % (fw - w)  # clouds cross the view in about 45 s of scene time
    oy = int(t * h / 130.0) % (fh - h)
    return r.clouds[oy : oy + h, ox : ox + w]


def compose_frame(r: Renderer, i: int) -> np.ndarray:
    """Frame ``i`` of the renderer's scenario as BGR uint8."""
    from synth.light import apply_ir, apply_light

    sc = r.sc
    t = sc.scene_time(i)
    light = r.light(i)
    light, gain = expose(light)
    albedo, sunlit = r.static_layers(t)
    actors = r.actors_at(t)
    if actors:
        albedo, sunlit = albedo.copy(), sunlit.copy()
        for sp, x, y, *_ in actors:
            bw = sp.alpha.shape[1] - 2 * sp.pad
            bh = sp.alpha.shape[0] - 2 * sp.pad
            r.paste_sprite(albedo, sunlit, sp, round(x - bw / 2), round(y - bh))
    clouds = _cloud_crop(r, t)
    sky_tex: F32 | None = None
    if clouds is not None and not light.ir:
        shade = cv2.addWeighted(clouds, -0.6, clouds, 0.0, 1.0)  # 1 - 0.6 · clouds
        sunlit = np.asarray(cv2.multiply(sunlit, shade), np.float32)
        sky_tex = np.asarray(cv2.addWeighted(clouds, 0.3, clouds, 0.0, 1.0), np.float32)
    if light.ir:
        img = apply_ir(albedo, r.world.sky)
    else:
        img = apply_light(
            albedo,
            light,
            sunlit=sunlit,
            emissive=r.world.emissive,
            sky=r.world.sky,
            sky_texture=sky_tex,
        )
    if light.ir or light.emissive > 0.3:
        _headlights(img, [a for a in actors if a.lights_on], gain)
    dx, dy = r.content_shift(t)
    mat = np.array([[1.0, 0.0, dx - r.m], [0.0, 1.0, dy - r.m]], np.float32)
    img = np.asarray(
        cv2.warpAffine(img, mat, (r.w, r.h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT),
        np.float32,
    )
    u8 = cv2.convertScaleAbs(img, alpha=255.0 * gain, beta=0.5)
    sigma = sc.noise * (1.2 + 1.3 * (gain - 1.0)) * (1.6 if light.ir else 1.0)
    if sigma > 0:
        rng = np.random.default_rng([r.frame_seed, i])
        k = int(rng.integers(0, NOISE_BANK))
        bank = r.noise_gray(k) if light.ir else r.noise_colour(k)
        # moved at random, so that no two frames of a still scene are ever the same picture
        # (a live sensor never repeats itself; only a frozen recorder does)
        oy, ox = (int(v) for v in rng.integers(0, 64, 2))
        bank = np.roll(bank, (oy, ox), axis=(0, 1))
        noisy = cv2.addWeighted(u8.astype(np.int16), 1.0, bank, sigma / NOISE_SCALE, 0.0)
        u8 = cv2.convertScaleAbs(noisy)
    if light.ir:
        u8 = cv2.merge([u8, u8, u8])
    return np.asarray(u8, np.uint8)


def covered(r: Renderer, i: int) -> np.ndarray:
    """A covered lens: a dark, nearly featureless picture (a bag, a hand) with sensor noise."""

    rng = np.random.default_rng([r.frame_seed, i, 2])
    base = np.full((r.h, r.w), float(rng.uniform(12, 30)), np.float32)
    yy = np.linspace(-1.0, 1.0, r.h, dtype=np.float32)[:, None]
    base += 6.0 * yy  # a soft gradient of light leaking in from one side
    noisy = base + r.noise_gray(int(rng.integers(0, 4))).astype(np.float32) * (3.0 / NOISE_SCALE)
    u8 = cv2.convertScaleAbs(noisy)
    return np.asarray(cv2.merge([u8, u8, u8]), np.uint8)


def flashed(img: np.ndarray) -> np.ndarray:
    """A sudden full-frame flash (a floodlight, lightning, a car's high beam into the lens)."""
    return np.asarray(cv2.convertScaleAbs(img, alpha=3.5, beta=90), np.uint8)


def _headlights(img: F32, cars: list[Actor], gain: float) -> None:
    """Moving vehicles at night: a glare at the front and a pool of light on the road ahead."""
    if not cars:
        return
    glow: np.ndarray = np.zeros(img.shape[:2], np.float32)
    for a in cars:
        bw = a.sprite.alpha.shape[1] - 2 * a.sprite.pad
        bh = a.sprite.alpha.shape[0] - 2 * a.sprite.pad
        front = a.x + a.facing * bw / 2
        nz.ellipse(glow, front + a.facing * bw * 0.45, a.y, bw * 0.5, bh * 0.18, (0.3 / gain,))
        nz.ellipse(glow, front, a.y - 0.4 * bh, bh * 0.12, bh * 0.1, (2.5,))
    glow = cv2.GaussianBlur(glow, (0, 0), 1.5)
    if img.ndim == 3:
        img += glow[..., None] * np.asarray((0.85, 0.95, 1.0), np.float32)
    else:
        img += glow


def _clip(box: XYXY, w: int, h: int) -> XYXY:
    x1, y1, x2, y2 = box
    return (max(0, x1), max(0, y1), min(w, x2), min(h, y2))


def scenario_truth(r: Renderer) -> GroundTruth:
    """The ground truth of ``r``'s scenario (no frames are rendered)."""
    sc = r.sc
    w, h = sc.size
    zone_masks = [(z.id, polygon_mask(z.polygon, w, h)) for z in sc.zones]
    masked = np.zeros((h, w), bool)
    for poly in sc.masks:
        masked |= polygon_mask(poly, w, h)
    structures = [_structure_truth(r, i, zone_masks, masked) for i in range(len(r.builds))]
    return GroundTruth(
        scenario=sc.name,
        size=(w, h),
        fps=sc.fps,
        seconds_per_frame=sc.seconds_per_frame,
        speed=sc.speed,
        n_frames=sc.n_frames,
        start_hour=sc.start_hour,
        confirm_after_scene_s=sc.confirm_after,
        confirm_after_video_s=sc.confirm_after / sc.speed,
        zones=[
            {"id": z.id, "unit": z.unit, "polygon": [list(p) for p in z.polygon]} for z in sc.zones
        ],
        masks=[[list(p) for p in m] for m in sc.masks],
        structures=structures,
        vehicles=_vehicles(r, zone_masks),
        camera_shifts=[
            {
                "at_scene_s": s.at_s,
                "at_video_s": s.at_s / sc.speed,
                "dx_px": s.dx * w,
                "dy_px": s.dy * w,
            }
            for s in sc.shifts
        ],
        ir_periods=_ir_periods(r),
        view_changes=[
            {"kind": v.kind, "start_scene_s": v.start_s, "end_scene_s": v.end_s}
            for v in sc.view_changes
        ],
        gop=sc.gop,
    )


def _structure_truth(
    r: Renderer, i: int, zone_masks: list[tuple[str, np.ndarray]], masked: np.ndarray
) -> StructureTruth:
    sc, b = r.sc, r.builds[i]
    w, h = sc.size
    sp = r.sprite(i, r.steps)
    assert sp.bbox is not None, "a finished structure always draws something"
    bx1, by1, bx2, by2 = sp.bbox
    x0, y0 = r.boxes[i][0] - r.m, r.boxes[i][1] - r.m
    first = _clip((x0 + bx1, y0 + by1, x0 + bx2, y0 + by2), w, h)
    dx, dy = (round(v) for v in r.content_shift(b.complete_s, sway=False))
    seen = _clip((first[0] + dx, first[1] + dy, first[2] + dx, first[3] + dy), w, h)
    zone = _best_zone(seen, zone_masks)
    is_masked = overlap(seen, masked) >= 0.5
    return StructureTruth(
        id=f"s{i}",
        cls=b.cls,
        bbox=seen,
        bbox_first_view=first,
        start_scene_s=b.start_s,
        complete_scene_s=b.complete_s,
        demolish_scene_s=b.demolish_s,
        start_video_s=b.start_s / sc.speed,
        complete_video_s=b.complete_s / sc.speed,
        demolish_video_s=None if b.demolish_s is None else b.demolish_s / sc.speed,
        zone=zone,
        inside_zone=zone is not None,
        masked=is_masked,
        expected_report=zone is not None and not is_masked,
    )


def _best_zone(box: XYXY, zone_masks: list[tuple[str, np.ndarray]]) -> str | None:
    best, best_f = None, 0.5
    for zid, m in zone_masks:
        f = overlap(box, m)
        if f >= best_f:
            best, best_f = zid, f
    return best


def _vehicles(r: Renderer, zone_masks: list[tuple[str, np.ndarray]]) -> list[VehicleTruth]:
    sc = r.sc
    out = []
    for p, sp in r.parked:
        assert sp.bbox is not None
        bw = sp.alpha.shape[1] - 2 * sp.pad
        bh = sp.alpha.shape[0] - 2 * sp.pad
        x0, y0 = round(p.at[0] * r.w - bw / 2), round(p.at[1] * r.h - bh)
        box = _clip((x0 + sp.bbox[0], y0 + sp.bbox[1], x0 + sp.bbox[2], y0 + sp.bbox[3]), r.w, r.h)
        out.append(
            VehicleTruth(
                kind=p.kind,
                bbox=box,
                arrive_scene_s=p.arrive_s,
                leave_scene_s=p.leave_s,
                arrive_video_s=p.arrive_s / sc.speed,
                leave_video_s=p.leave_s / sc.speed,
                zone=_best_zone(box, zone_masks),
            )
        )
    return out


def _ir_periods(r: Renderer) -> list[tuple[float, float]]:
    """Scene-time spans during which the camera is in infrared mode."""
    periods: list[tuple[float, float]] = []
    start: float | None = None
    for i in range(r.sc.n_frames):
        ir = r.light(i).ir
        t = r.sc.scene_time(i)
        if ir and start is None:
            start = t
        elif not ir and start is not None:
            periods.append((start, t))
            start = None
    if start is not None:
        periods.append((start, r.sc.scene_duration))
    return periods

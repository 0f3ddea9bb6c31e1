"""Zones, masks, ids and units drawn over a camera frame, Chinese labels included.

OpenCV cannot draw Chinese; outlines and fills are drawn with OpenCV and the
labels with Pillow in a CJK font (Noto Sans CJK SC where installed).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from geofence.zones import ZoneSet

Image8 = npt.NDArray[np.uint8]

# (path, face index): the Simplified Chinese face of the Noto CJK collection first.
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
)

# BGR, bright enough to read on day and night (infrared) frames alike.
ZONE_COLOURS: tuple[tuple[int, int, int], ...] = (
    (0, 215, 255),  # amber
    (255, 160, 0),  # azure
    (80, 220, 60),  # green
    (200, 80, 255),  # magenta
    (60, 80, 255),  # red
    (255, 255, 0),  # cyan
)
MASK_COLOUR = (128, 128, 128)
BOX_COLOUR = (255, 255, 255)
TEXT_BG = (20, 20, 20)


class FontNotFoundError(RuntimeError):
    """No font able to draw Chinese was found."""


def font_path() -> tuple[str, int]:
    """The CJK font used for labels: ``$SITEWATCH_FONT`` (a .ttf/.ttc) or the first found."""
    env = os.environ.get("SITEWATCH_FONT")
    if env:
        if not Path(env).is_file():
            raise FontNotFoundError(f"SITEWATCH_FONT={env} is not a file")
        return env, 0
    for path, index in FONT_CANDIDATES:
        if Path(path).is_file():
            return path, index
    tried = ", ".join(p for p, _ in FONT_CANDIDATES)
    raise FontNotFoundError(
        f"no CJK font found (tried {tried}); install fonts-noto-cjk or set SITEWATCH_FONT"
    )


@functools.lru_cache(maxsize=8)
def cjk_font(size: int) -> ImageFont.FreeTypeFont:
    path, index = font_path()
    return ImageFont.truetype(path, size, index=index)


def colour_of(index: int) -> tuple[int, int, int]:
    return ZONE_COLOURS[index % len(ZONE_COLOURS)]


def draw_zones(
    image: Image8,
    zoneset: ZoneSet,
    *,
    boxes: npt.ArrayLike | None = None,
    labels: Sequence[str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> Image8:
    """A copy of ``image`` (BGR) with zones, masks, their ids and units, and optional boxes.

    ``labels``: one text per box. ``notes``: extra text per zone id (e.g. its area in m²).
    The image is resized to the zone set's frame size if it differs.
    """
    out = _as_bgr(image, zoneset.width, zoneset.height)
    thick = max(2, round(max(out.shape[:2]) / 500))
    polys = [zoneset.polygon_px(z.id) for z in zoneset.zones]
    fill = out.copy()
    for i, poly in enumerate(polys):
        cv2.fillPoly(fill, [poly], colour_of(i))
    cv2.addWeighted(fill, 0.18, out, 0.82, 0, dst=out)
    for i, poly in enumerate(polys):
        cv2.polylines(out, [poly], True, colour_of(i), thick, cv2.LINE_AA)
    _draw_masks(out, zoneset, thick)  # on top: a masked part of a zone is not watched
    box_arr = np.zeros((0, 4)) if boxes is None else np.asarray(boxes, dtype=np.float64)
    box_arr = box_arr.reshape(-1, 4)
    for b in box_arr:
        p1, p2 = (round(b[0]), round(b[1])), (round(b[2]), round(b[3]))
        cv2.rectangle(out, p1, p2, BOX_COLOUR, thick)
    texts: list[tuple[tuple[int, int], str, tuple[int, int, int]]] = []
    for i, zone in enumerate(zoneset.zones):
        text = f"{zone.id} · {zone.unit}"
        if zone.name:
            text += f"\n{zone.name}"
        if notes and notes.get(zone.id):
            text += f"\n{notes[zone.id]}"
        texts.append((_anchor(polys[i], thick), text, colour_of(i)))
    for i, mask in enumerate(zoneset.masks):
        if mask.id:
            texts.append((_anchor(zoneset.mask_polygons_px()[i], thick), mask.id, MASK_COLOUR))
    for i, b in enumerate(box_arr):
        if labels is not None and i < len(labels) and labels[i]:
            texts.append(((round(b[0]) + thick, round(b[1]) + thick), labels[i], BOX_COLOUR))
    return _draw_texts(out, texts)


def _as_bgr(image: Image8, width: int, height: int) -> Image8:
    img: np.ndarray = np.asarray(image)
    if img.dtype != np.uint8:
        raise ValueError(f"draw_zones: image must be uint8, got {img.dtype}")
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    elif img.ndim != 3 or img.shape[2] not in (3, 4):
        raise ValueError(f"draw_zones: image must be HxW, HxWx3 or HxWx4, got {img.shape}")
    elif img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if img.shape[:2] != (height, width):
        img = cv2.resize(img, (width, height), interpolation=cv2.INTER_AREA)
    return np.array(img, dtype=np.uint8, order="C", copy=True)


def _draw_masks(out: Image8, zoneset: ZoneSet, thick: int) -> None:
    """Masks: darkened, hatched, grey outline — clearly 'not watched'."""
    if not zoneset.masks:
        return
    h, w = out.shape[:2]
    region = np.zeros((h, w), dtype=np.uint8)
    polys = zoneset.mask_polygons_px()
    cv2.fillPoly(region, polys, 255)
    hatch = np.zeros_like(region)
    step = max(12, max(h, w) // 60)
    for k in range(-h, w, step):
        cv2.line(hatch, (k, h), (k + h, 0), 255, max(1, thick // 2))
    inside = region > 0
    out[inside] = (out[inside] * 0.45).astype(np.uint8)
    out[inside & (hatch > 0)] = MASK_COLOUR
    cv2.polylines(out, polys, True, MASK_COLOUR, thick, cv2.LINE_AA)


def _anchor(poly: npt.NDArray[np.int32], thick: int) -> tuple[int, int]:
    """Top-left corner for a zone's label: just inside its topmost corner."""
    top = poly[np.lexsort((poly[:, 0], poly[:, 1]))[0]]
    return int(top[0]) + 2 * thick, int(top[1]) + 2 * thick


def _draw_texts(
    out: Image8, texts: list[tuple[tuple[int, int], str, tuple[int, int, int]]]
) -> Image8:
    if not texts:
        return out
    h, w = out.shape[:2]
    font = cjk_font(max(14, round(h / 34)))
    pil = Image.fromarray(cv2.cvtColor(out, cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(pil)
    pad = max(2, font.size // 6)
    for (x, y), text, colour in texts:
        left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font, spacing=pad)
        tw, th = right - left + 2 * pad, bottom - top + 2 * pad
        x = min(max(0, x), max(0, w - tw))
        y = min(max(0, y), max(0, h - th))
        draw.rectangle((x, y, x + tw, y + th), fill=TEXT_BG[::-1], outline=colour[::-1])
        draw.multiline_text(
            (x + pad - left, y + pad - top), text, font=font, fill=colour[::-1], spacing=pad
        )
    return np.asarray(cv2.cvtColor(np.asarray(pil), cv2.COLOR_RGB2BGR), dtype=np.uint8)

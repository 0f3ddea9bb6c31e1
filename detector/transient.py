"""Transient suppression: a COCO detector tells people, vehicles and animals apart.

It is run only when a stable change is still unexplained — a new pending region, or
one due for a re-check — and only on a crop around those regions, so its cost stays
rare: a street full of walkers never gets this far (walkers are never stable).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from detector.backends.base import Backend
from detector.reporting import Labeler
from detector.tracks import Track
from streams.picture import Picture

PEOPLE_AND_VEHICLES = frozenset(
    {"person", "bicycle", "car", "motorcycle", "bus", "train", "truck", "boat"}
)
# animals that walk through a village and its building sites; COCO's wild ones (elephant,
# bear, zebra, giraffe) are what a small model calls patterned piles (a stack of pipes)
ANIMALS = frozenset({"bird", "cat", "dog", "horse", "sheep", "cow"})
TRANSIENT_CLASSES = PEOPLE_AND_VEHICLES | ANIMALS
ANIMAL_CONF = 0.45  # small COCO models see sheep and cows in piles of material
RECHECK = 10  # samples between two looks at the same pending track
RECHECK_FLAGGED = 3  # the same for a track last found transient
MAX_OBJECT_SHARE = 0.25  # a "transient object" over more of the view is a misdetection
STRUCTURE_WINS = 0.5  # structure-model score that overrules a COCO vehicle

BoxF = tuple[float, float, float, float]


class TransientFilter:
    """Which candidate boxes (source pixels) are mostly covered by transient objects.

    ``conf``: detector score threshold for people and vehicles (animals need
    ``ANIMAL_CONF``). ``cover``: share of a candidate's changed pixels that transient
    boxes must cover for it to count as transient.
    """

    def __init__(self, backend: Backend, conf: float = 0.25, cover: float = 0.4) -> None:
        if not 0 < conf < 1:
            raise ValueError(f"conf must be in (0, 1), got {conf}")
        if not 0 < cover <= 1:
            raise ValueError(f"cover must be in (0, 1], got {cover}")
        self.backend = backend
        self.conf = conf
        self.cover = cover
        self.min_conf = {
            i: (max(conf, ANIMAL_CONF) if n in ANIMALS else conf)
            for i, n in backend.names.items()
            if n in TRANSIENT_CLASSES
        }
        self.runs = 0
        self.last_boxes: np.ndarray = np.zeros((0, 4), np.float32)

    def detect(self, frame: np.ndarray, around: Sequence[BoxF]) -> np.ndarray:
        """Transient object boxes (N, 4) in source pixels: the whole frame, then one crop
        around each box.

        The whole frame gives the model context; each crop (the box with three quarters
        of its size added on every side, at least 128 px a side) enlarges small objects
        to the model's input size.
        """
        h, w = frame.shape[:2]
        found = [np.zeros((0, 4), np.float32)]
        crops = [(0, 0, w, h)] + [_crop_box(box, w, h) for box in around]
        for x1, y1, x2, y2 in dict.fromkeys(crops):
            crop = np.ascontiguousarray(frame[y1:y2, x1:x2])
            det = self.backend.predict(crop, conf=self.conf)
            self.runs += 1
            keep = np.array(
                [
                    float(s) >= self.min_conf.get(int(c), 2.0)
                    for c, s in zip(det.class_id, det.confidence, strict=True)
                ],
                bool,
            )
            if keep.any():
                boxes = det.xyxy[keep].astype(np.float32).reshape(-1, 4)
                found.append(boxes + np.array([x1, y1, x1, y1], np.float32))
        self.last_boxes = np.concatenate(found).astype(np.float32)
        return self.last_boxes

    def review(
        self,
        frame: Picture | np.ndarray,
        tracks: Sequence[Track],
        changed: np.ndarray,
        scale: float,
        shift: tuple[float, float],
        sample: int,
        labeler: Labeler | None = None,
    ) -> dict[int, bool]:
        """Look at the pending ``tracks`` (seen in this sample) that are due for a look;
        return the verdicts by track id (True: transient), which the tracker applies
        (``Tracker.apply_transient``: it alone changes tracks).

        A track is due ``RECHECK`` samples after its last look (``RECHECK_FLAGGED`` when it
        was found transient). It is transient when people, vehicles or animals cover
        ``cover`` of its changed pixels; then its stability clock is to restart, so that
        only time without them counts towards confirmation. ``scale``: analysis pixels per
        source pixel; ``shift``: the frame's registration shift (analysis pixels).

        COCO has no excavators: it calls them trucks. With a structure ``labeler``, a
        track the structure model itself recognises (score ≥ ``STRUCTURE_WINS``) is not
        transient, whatever the COCO model says.
        """
        due = [
            k
            for k in tracks
            if sample - k.transient_checked >= (RECHECK_FLAGGED if k.transient else RECHECK)
        ]
        if not due:
            return {}
        dx, dy = shift
        offset = np.array([dx, dy, dx, dy], np.float32)
        around: list[BoxF] = []
        for k in due:
            x1, y1, x2, y2 = ((np.array(k.box, np.float32) + offset) / scale).tolist()
            around.append((x1, y1, x2, y2))
        image = Picture.of(frame).bgr()  # full size, converted only when a look is due
        found = self.detect(image, around)
        found_analysis = found * scale - offset
        verdicts = {}
        for track, box in zip(due, around, strict=True):
            transient = covered_change(changed, track.box, found_analysis) >= self.cover
            if transient and labeler is not None:
                x1, y1, x2, y2 = (int(v) for v in box)
                named = labeler.label(np.ascontiguousarray(image[y1:y2, x1:x2]))
                transient = named is None or named[1] < STRUCTURE_WINS
            verdicts[track.id] = transient
        return verdicts

    def departed(
        self,
        before: np.ndarray,
        track: Track,
        changed: np.ndarray,
        scale: float,
        shift: tuple[float, float],
    ) -> bool:
        """Is the track's change a departure: the reference picture ``before`` (source
        pixels, aligned like the frame) shows people, vehicles or animals over its changed
        pixels, where the frame itself no longer does? A reference learnt while a van
        stood there (a warm-up, a first night, a slow adaptation) then differs from the
        empty place; that is the scene returning to normal, not a new structure."""
        dx, dy = shift
        offset = np.array([dx, dy, dx, dy], np.float32)
        x1, y1, x2, y2 = ((np.array(track.box, np.float32) + offset) / scale).tolist()
        found = self.detect(before, [(x1, y1, x2, y2)])
        h, w = before.shape[:2]
        sizes = (found[:, 2] - found[:, 0]) * (found[:, 3] - found[:, 1])
        found = found[sizes < MAX_OBJECT_SHARE * w * h]  # not "an airplane" as big as the view
        return covered_change(changed, track.box, found * scale - offset) >= self.cover


def covered_change(
    changed: np.ndarray, box: tuple[int, int, int, int], others: np.ndarray
) -> float:
    """Share of the changed pixels in ``box`` that lie inside ``others`` (same pixels).

    A candidate made of several people standing apart has a large box that their boxes
    cover only in part, but its *changed* pixels are all on them. Without changed
    pixels (a place the reference does not know) the box's own coverage is used.
    """
    x1, y1, x2, y2 = box
    sub = changed[y1:y2, x1:x2]
    n = int(np.count_nonzero(sub))
    if n < 8:
        return coverage((float(x1), float(y1), float(x2), float(y2)), others)
    inside = np.zeros(sub.shape, bool)
    for ox1, oy1, ox2, oy2 in others:
        a = int(np.clip(np.floor(ox1 - x1), 0, sub.shape[1]))
        b = int(np.clip(np.ceil(ox2 - x1), 0, sub.shape[1]))
        c = int(np.clip(np.floor(oy1 - y1), 0, sub.shape[0]))
        d = int(np.clip(np.ceil(oy2 - y1), 0, sub.shape[0]))
        inside[c:d, a:b] = True
    return float(np.count_nonzero(sub & inside)) / n


def coverage(box: BoxF, others: np.ndarray) -> float:
    """Fraction of ``box`` covered by the union of ``others`` (rasterised on a small grid)."""
    bx1, by1, bx2, by2 = box
    bw, bh = bx2 - bx1, by2 - by1
    if bw <= 0 or bh <= 0 or len(others) == 0:
        return 0.0
    grid = np.zeros((32, 32), bool)
    for ox1, oy1, ox2, oy2 in others:
        gx1 = int(np.clip(np.floor((ox1 - bx1) / bw * 32), 0, 32))
        gx2 = int(np.clip(np.ceil((ox2 - bx1) / bw * 32), 0, 32))
        gy1 = int(np.clip(np.floor((oy1 - by1) / bh * 32), 0, 32))
        gy2 = int(np.clip(np.ceil((oy2 - by1) / bh * 32), 0, 32))
        grid[gy1:gy2, gx1:gx2] = True
    return float(grid.mean())


def _crop_box(box: BoxF, w: int, h: int) -> tuple[int, int, int, int]:
    """A square crop centred on ``box``, 2.5× its longer side (at least 128 px), in the frame."""
    x1, y1, x2, y2 = box
    half = max(x2 - x1, y2 - y1, 51.2) * 1.25
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    return (
        int(max(0, cx - half)),
        int(max(0, cy - half)),
        int(min(w, cx + half)),
        int(min(h, cy + half)),
    )

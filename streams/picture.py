"""A decoded picture, converted only as far as it is asked for.

The sampler hands out the decoder's own frame (YUV) wrapped in a :class:`Picture`; the
detector asks for a small BGR image (``scaled``: libswscale converts and downscales in
one pass, about 1 ms on a 1080p frame) on every sample, and for the full-size BGR image
(``bgr``: 4–5 ms) only when an event's evidence needs it. A keyframe of an HD source
may have been decoded without H.264's deblocking filter (``streams.sampler``): its
small pictures come from that frame, and ``bgr`` decodes the packet again in full
quality. A picture made from a BGR array (a test, a still image) scales with OpenCV's
area filter instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

if TYPE_CHECKING:
    from av.video.frame import VideoFrame

_local = threading.local()  # one libswscale context per thread and output size, reused


def _reformatter(size: tuple[int, int]) -> Any:
    """This thread's reformatter for ``size`` (making a libswscale context costs as much as
    the conversion; a reformatter keeps its context while the sizes stay the same)."""
    cache: dict[tuple[int, int], Any] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    found = cache.get(size)
    if found is None:
        from av.video.reformatter import VideoReformatter

        found = cache[size] = VideoReformatter()
    return found


class Picture:
    """One decoded picture; the conversions asked for are kept (a picture is read-only)."""

    __slots__ = ("_bgr", "_frame", "_full", "_scaled", "height", "width")

    def __init__(
        self,
        frame: VideoFrame | None = None,
        bgr: np.ndarray | None = None,
        *,
        full: Callable[[], VideoFrame] | None = None,
    ) -> None:
        """``frame``: the decoded frame; ``full``: when ``frame`` was decoded without the
        deblocking filter (``streams.sampler``), how to decode it again in full quality
        for :meth:`bgr` (evidence, models); ``bgr``: a BGR uint8 H×W×3 image instead."""
        if (frame is None) == (bgr is None):
            raise ValueError("Picture: give exactly one of frame (av.VideoFrame) or bgr")
        if bgr is not None:
            if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.dtype != np.uint8:
                raise ValueError(
                    f"frame_bgr must be a uint8 H×W×3 BGR image, got {bgr.dtype} {bgr.shape}"
                )
            self.height, self.width = int(bgr.shape[0]), int(bgr.shape[1])
        else:
            assert frame is not None
            self.width, self.height = int(frame.width), int(frame.height)
        self._frame: Any = frame
        self._full = full
        self._bgr = bgr
        self._scaled: dict[tuple[int, int], np.ndarray] = {}

    @classmethod
    def of(cls, image: Picture | np.ndarray) -> Picture:
        """``image`` as a picture (a BGR uint8 H×W×3 array is wrapped, not copied)."""
        return image if isinstance(image, Picture) else cls(bgr=image)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in source pixels."""
        return self.width, self.height

    @property
    def shape(self) -> tuple[int, int, int]:
        """The shape of :meth:`bgr` (height, width, 3), without converting."""
        return self.height, self.width, 3

    def bgr(self) -> np.ndarray:
        """The full-size BGR uint8 image (converted once, then kept; in full quality even
        when the analysis pictures come from a fast decode)."""
        if self._bgr is None:
            frame = self._frame if self._full is None else self._full()
            self._bgr = frame.to_ndarray(format="bgr24")
        return self._bgr

    def scaled(self, width: int, height: int) -> np.ndarray:
        """A BGR uint8 image of ``width`` × ``height`` (area filter; kept per size).

        From the decoder's frame libswscale converts and scales in one pass; the full-size
        image is never made. The source size itself is :meth:`bgr`.
        """
        if (width, height) == self.size:
            return self.bgr()
        key = (width, height)
        out = self._scaled.get(key)
        if out is None:
            if self._frame is not None:
                small = _reformatter(key).reformat(
                    self._frame, width=width, height=height, format="bgr24", interpolation="AREA"
                )
                out = small.to_ndarray()
            else:
                out = cv2.resize(self.bgr(), key, interpolation=cv2.INTER_AREA)
            self._scaled[key] = out
        return out

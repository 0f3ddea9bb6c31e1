"""What a scripted camera scene shows: hours of a village edge in scene seconds.

The data only; :mod:`synth.scene` renders it (``render``, ``write_video``, ``ground_truth``).

A :class:`Scenario` says what happens (structures built and demolished, vehicles
parked, a camera knocked a few pixels, walkers, traffic, clouds, the day/night
cycle) in *scene seconds* since its start; each video frame advances the scene by
``seconds_per_frame``.

Replaying a scenario's video with ``speed = scenario.speed`` makes stream time
equal scene time, so ``confirm_after`` (scene seconds) applies as it is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from synth.structures import STRUCTURE_CLASSES

Box = tuple[float, float, float, float]
Polygon = tuple[tuple[float, float], ...]


def _frac_box(name: str, box: Box) -> None:
    x1, y1, x2, y2 = box
    if not (0 <= x1 < x2 <= 1 and 0 <= y1 < y2 <= 1):
        raise ValueError(f"{name} must be x1<x2, y1<y2 fractions in 0..1, got {box}")


@dataclass(frozen=True)
class Build:
    """A structure of class ``cls`` built in ``box`` (fractions of the first frame).

    Building starts at ``start_s`` and takes ``build_s`` scene seconds; the structure
    disappears at ``demolish_s`` (scene seconds) when given. A ``building_extension``
    gets a host house next to it whose wall it matches (``host`` = "left"/"right").
    """

    cls: str
    box: Box
    start_s: float
    build_s: float = 1800.0
    demolish_s: float | None = None
    seed: int = 0
    host: str | None = None

    def __post_init__(self) -> None:
        if self.cls not in STRUCTURE_CLASSES:
            raise ValueError(f"cls must be one of {', '.join(STRUCTURE_CLASSES)}, got {self.cls!r}")
        _frac_box("box", self.box)
        if self.start_s < 0 or self.build_s <= 0:
            raise ValueError(
                f"start_s must be ≥ 0 and build_s > 0, got {self.start_s}, {self.build_s}"
            )
        if self.demolish_s is not None and self.demolish_s <= self.start_s + self.build_s:
            raise ValueError(
                f"demolish_s must come after completion ({self.start_s + self.build_s}), "
                f"got {self.demolish_s}"
            )
        if self.host not in (None, "left", "right"):
            raise ValueError(f"host must be None, 'left' or 'right', got {self.host!r}")

    @property
    def complete_s(self) -> float:
        return self.start_s + self.build_s

    def progress(self, t: float) -> float | None:
        """Build progress at scene time ``t`` (None: not there, before start or demolished)."""
        if t < self.start_s or (self.demolish_s is not None and t >= self.demolish_s):
            return None
        return float(min(1.0, (t - self.start_s) / self.build_s))


@dataclass(frozen=True)
class Park:
    """A ``kind`` of vehicle (car, van, truck) parked with its wheels at ``at`` (fractions)."""

    at: tuple[float, float]
    arrive_s: float
    leave_s: float
    kind: str = "van"
    facing: int = 1
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in ("car", "van", "truck"):
            raise ValueError(f"kind must be car, van or truck, got {self.kind!r}")
        if not self.leave_s > self.arrive_s >= 0:
            raise ValueError(f"need 0 ≤ arrive_s < leave_s, got {self.arrive_s}, {self.leave_s}")


@dataclass(frozen=True)
class CameraShift:
    """From scene time ``at_s`` the image content moves by ``dx``, ``dy`` (fractions of width)."""

    at_s: float
    dx: float
    dy: float


VIEW_KINDS = ("away", "cover", "freeze", "flash")


@dataclass(frozen=True)
class ViewChange:
    """From ``start_s`` to ``end_s`` (scene seconds) the camera does not show its view.

    ``kind``: ``away`` — a PTZ dome turned to another preset (another place is seen);
    ``cover`` — the lens is covered (a dark, featureless picture); ``freeze`` — the
    recorder repeats the frame of ``start_s``; ``flash`` — the picture is blown out.
    ``end_s`` None: the view never comes back (the camera was re-aimed for good). On
    return the view may be ``dx``, ``dy`` off (fractions of the width), as a PTZ
    preset rarely lands on the same pixel twice.
    """

    start_s: float
    end_s: float | None
    kind: str = "away"
    dx: float = 0.0
    dy: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in VIEW_KINDS:
            raise ValueError(f"kind must be one of {', '.join(VIEW_KINDS)}, got {self.kind!r}")
        if self.start_s < 0 or (self.end_s is not None and self.end_s <= self.start_s):
            raise ValueError(f"need 0 ≤ start_s < end_s, got {self.start_s}, {self.end_s}")

    def active(self, t: float) -> bool:
        return self.start_s <= t and (self.end_s is None or t < self.end_s)


@dataclass(frozen=True)
class ZoneSpec:
    """A watched zone (polygon in fractions) and the reporting unit that owns it."""

    id: str
    polygon: Polygon
    unit: str = "南屿镇/旗山村"
    name: str | None = None


Event = Build | Park | CameraShift | ViewChange


@dataclass(frozen=True)
class Scenario:
    """Everything that happens in one synthetic camera video (times in scene seconds).

    ``sun_moves``: the sun crosses the sky during the scene, so the shadows structures
    cast swing from one side in the morning to the other in the afternoon (otherwise
    the sun keeps one direction).
    """

    name: str
    size: tuple[int, int] = (480, 270)
    fps: float = 10.0
    seconds_per_frame: float = 60.0
    duration: float = 30.0
    start_hour: float = 9.0
    seed: int = 0
    zones: tuple[ZoneSpec, ...] = ()
    masks: tuple[Polygon, ...] = ()
    confirm_after: float = 3600.0
    events: tuple[Event, ...] = ()
    walkers_per_hour: float = 0.0
    traffic_per_hour: float = 0.0
    animals_per_hour: float = 0.0
    clouds: float = 0.0
    wind_sway: float = 0.3
    noise: float = 1.0
    ir_night: bool = True
    horizon: float = 0.15
    road_y: float | None = 0.8
    gop: int = 10
    sun_moves: bool = False
    description: str = ""

    def __post_init__(self) -> None:
        w, h = self.size
        if w < 32 or h < 32 or w % 2 or h % 2:
            raise ValueError(f"size must be even and at least 32×32, got {w}×{h}")
        if not 1 <= self.fps <= 120:
            raise ValueError(f"fps must be in 1..120, got {self.fps}")
        if self.seconds_per_frame <= 0:
            raise ValueError(f"seconds_per_frame must be > 0, got {self.seconds_per_frame}")
        if self.duration <= 0:
            raise ValueError(f"duration must be > 0 video seconds, got {self.duration}")
        if not 0 <= self.clouds <= 1:
            raise ValueError(f"clouds must be in 0..1, got {self.clouds}")
        if self.gop < 1:
            raise ValueError(f"gop must be ≥ 1 frame, got {self.gop}")

    @property
    def n_frames(self) -> int:
        return max(1, round(self.duration * self.fps))

    @property
    def speed(self) -> float:
        """Scene seconds per video second: pass as ``sitewatch replay --speed``."""
        return self.seconds_per_frame * self.fps

    @property
    def scene_duration(self) -> float:
        return self.n_frames * self.seconds_per_frame

    @property
    def builds(self) -> list[Build]:
        return [e for e in self.events if isinstance(e, Build)]

    @property
    def parked(self) -> list[Park]:
        return [e for e in self.events if isinstance(e, Park)]

    @property
    def shifts(self) -> list[CameraShift]:
        return sorted((e for e in self.events if isinstance(e, CameraShift)), key=lambda e: e.at_s)

    @property
    def view_changes(self) -> list[ViewChange]:
        return sorted(
            (e for e in self.events if isinstance(e, ViewChange)), key=lambda e: e.start_s
        )

    def view_at(self, t: float) -> ViewChange | None:
        """The view change under way at scene time ``t`` (None: the camera shows its view)."""
        return next((v for v in self.view_changes if v.active(t)), None)

    def scene_time(self, frame: int) -> float:
        return frame * self.seconds_per_frame

    def hour(self, frame: int) -> float:
        return self.start_hour + self.scene_time(frame) / 3600.0

    def with_size(self, width: int, height: int) -> Scenario:
        """The same scene at another frame size (everything is placed in fractions)."""
        return dataclasses.replace(self, size=(width, height))

    def camera_config(self, url: str, camera_id: str = "cam1") -> dict[str, Any]:
        """A ``cameras[]`` entry for the site YAML: this scene's zones and masks."""
        return {
            "id": camera_id,
            "url": url,
            "resolution": list(self.size),
            "zones": [
                {"id": z.id, "unit": z.unit, "polygon": [list(p) for p in z.polygon]}
                | ({"name": z.name} if z.name else {})
                for z in self.zones
            ],
            "masks": [{"polygon": [list(p) for p in m]} for m in self.masks],
        }

    def site_config(self, url: str, camera_id: str = "cam1") -> dict[str, Any]:
        """A whole site YAML (as a dict) for replaying this scene's video at :attr:`speed`."""
        return {
            "cameras": [self.camera_config(url, camera_id)],
            "detector": {"confirm_after": f"{self.confirm_after:g}s"},
        }

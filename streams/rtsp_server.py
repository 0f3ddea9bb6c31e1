"""The camera simulator's RTSP server: GStreamer, run as a script under ``/usr/bin/python3``.

Not imported by sitewatch (``python3-gi`` exists only for the system Python); started by
:class:`streams.simulator.Simulator`, which holds its stdin (EOF → exit). Usage::

    /usr/bin/python3 rtsp_server.py --port 8554 --mount cam0=h264:/path/a.mp4 [--mount ...]

Each file is read once into memory (keep simulated videos to minutes) as access units
(byte-stream, one AU per buffer, with the container's pts/dts). Every client gets its own
pipeline whose ``appsrc`` pushes those units with explicit timestamps, looping forever
(``multifilesrc`` would leave frames without timestamps). Prints ``READY <port>`` when
listening; exits on SIGTERM/SIGINT or when its stdin closes.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from dataclasses import dataclass
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

_PARSERS = {
    "h264": ("h264parse", "video/x-h264", "rtph264pay"),
    "hevc": ("h265parse", "video/x-h265", "rtph265pay"),
}


@dataclass
class Unit:
    data: bytes
    pts: int
    dts: int
    duration: int
    delta: bool


@dataclass
class Clip:
    codec: str
    caps: Any
    units: list[Unit]
    length: int  # ns, one pass of the loop


def load_clip(codec: str, path: str) -> Clip:
    """Demux ``path`` into byte-stream access units with their timestamps (ns)."""
    parser, mime, _ = _PARSERS[codec]
    desc = (
        f"filesrc name=file ! parsebin ! {parser} config-interval=-1 ! "
        f"{mime},stream-format=byte-stream,alignment=au ! appsink name=sink sync=false"
    )
    pipeline = Gst.parse_launch(desc)
    pipeline.get_by_name("file").set_property("location", path)  # any characters in the path
    sink = pipeline.get_by_name("sink")
    pipeline.set_state(Gst.State.PLAYING)
    units: list[Unit] = []
    caps = None
    try:
        while True:
            sample = sink.emit("pull-sample")
            if sample is None:
                break
            caps = caps or sample.get_caps()
            buf = sample.get_buffer()
            ok, info = buf.map(Gst.MapFlags.READ)
            if not ok:
                continue
            data = bytes(info.data)
            buf.unmap(info)
            pts = buf.pts if buf.pts != Gst.CLOCK_TIME_NONE else None
            dts = buf.dts if buf.dts != Gst.CLOCK_TIME_NONE else pts
            delta = bool(buf.get_flags() & Gst.BufferFlags.DELTA_UNIT)
            units.append(Unit(data, pts if pts is not None else -1, dts or 0, buf.duration, delta))
    finally:
        pipeline.set_state(Gst.State.NULL)
    if not units:
        raise SystemExit(f"no {codec} video in {path}")
    return _fix_times(codec, caps, units)


def _fix_times(codec: str, caps: Any, units: list[Unit]) -> Clip:
    step = next((u.duration for u in units if 0 < u.duration < Gst.CLOCK_TIME_NONE), 40_000_000)
    for i, u in enumerate(units):
        if u.pts < 0:
            u.pts = i * step
        u.dts = min(u.dts, u.pts)
    start = min(min(u.dts for u in units), min(u.pts for u in units))
    for u in units:  # GStreamer times are unsigned: the earliest dts becomes 0
        u.pts -= start
        u.dts -= start
        if not 0 < u.duration < Gst.CLOCK_TIME_NONE:
            u.duration = step
    while units and units[0].delta:  # a loop must begin at a keyframe
        units.pop(0)
    length = max(u.pts for u in units) + step
    return Clip(codec, caps, units, length)


class Feeder:
    """Pushes one client's access units into its appsrc, looping forever."""

    def __init__(self, clip: Clip, appsrc: Any) -> None:
        self.clip = clip
        self.appsrc = appsrc
        self.index = 0
        self.loop = 0
        appsrc.set_property("caps", clip.caps)
        appsrc.set_property("format", Gst.Format.TIME)
        appsrc.connect("need-data", self.on_need_data)

    def on_need_data(self, src: Any, _length: int) -> None:
        unit = self.clip.units[self.index]
        offset = self.loop * self.clip.length
        buf = Gst.Buffer.new_wrapped(unit.data)
        buf.pts = unit.pts + offset
        buf.dts = unit.dts + offset
        buf.duration = unit.duration
        if unit.delta:
            buf.set_flags(Gst.BufferFlags.DELTA_UNIT)
        src.emit("push-buffer", buf)
        self.index += 1
        if self.index == len(self.clip.units):
            self.index = 0
            self.loop += 1


class ClipFactory(GstRtspServer.RTSPMediaFactory):
    def __init__(self, clip: Clip) -> None:
        super().__init__()
        self.clip = clip
        parser, _, payloader = _PARSERS[clip.codec]
        self.set_launch(
            f"( appsrc name=src is-live=false ! {parser} ! "
            f"{payloader} name=pay0 pt=96 config-interval=1 )"
        )
        self.set_shared(False)
        self.connect("media-configure", self.on_configure)

    def on_configure(self, _factory: Any, media: Any) -> None:
        appsrc = media.get_element().get_child_by_name("src")
        media.feeder = Feeder(self.clip, appsrc)  # kept alive with the media


def _quit_when_parent_goes(loop: Any) -> None:
    """The parent holds our stdin open; EOF means it exited (even if it was killed)."""

    def on_stdin(fd: int, _cond: Any) -> bool:
        if not os.read(fd, 4096):
            loop.quit()
            return False
        return True

    GLib.io_add_watch(sys.stdin.fileno(), GLib.PRIORITY_DEFAULT, GLib.IO_IN | GLib.IO_HUP, on_stdin)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--mount", action="append", required=True, help="NAME=CODEC:PATH")
    args = ap.parse_args(argv)
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    cache: dict[str, Clip] = {}
    for spec in args.mount:
        name, rest = spec.split("=", 1)
        codec, path = rest.split(":", 1)
        if rest not in cache:
            cache[rest] = load_clip(codec, path)
        mounts.add_factory(f"/{name}", ClipFactory(cache[rest]))
    if server.attach(None) == 0:
        print(f"cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 3
    loop = GLib.MainLoop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, loop.quit)
    if not sys.stdin.isatty():
        _quit_when_parent_goes(loop)
    print(f"READY {args.port}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Headless Chromium for the page tests: Debian's ``/usr/bin/chromium`` driven by Playwright
(no browser download), the app served by uvicorn on 127.0.0.1, an axe-core check, console
errors collected, screenshots written to ``test-artifacts/pages/``."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "api" / "static" / "vendor" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "pages"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def require_chromium() -> None:
    if not CHROMIUM.is_file():
        pytest.skip(
            f"{CHROMIUM} is missing: apt-get install chromium fonts-noto-cjk (scripts/setup.sh)"
        )
    pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev extras)")


@contextmanager
def launch() -> Iterator[Any]:
    """Debian's Chromium, headless, for the length of the block (skips without it)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on 127.0.0.1 in a background thread (its lifespan is the test client's)."""
    import uvicorn

    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False
        )
    )
    thread = threading.Thread(target=server.run, name="pages-uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def make_clip(path: Path, seconds: int = 3) -> bytes:
    """A small H.264 MP4 (moov first, so it plays while it loads)."""
    subprocess.run(
        [
            "ffmpeg",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"testsrc=size=320x180:rate=10:duration={seconds}",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "10",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
        timeout=60,
    )
    return path.read_bytes()


@dataclass
class Problems:
    """Console errors and uncaught page errors seen, and serious accessibility violations."""

    console: list[str] = field(default_factory=list)
    axe: list[str] = field(default_factory=list)
    layout: list[str] = field(default_factory=list)

    def watch(self, page: Any, allow: str = "") -> None:
        """Record ``page``'s console errors (but those containing ``allow``, when given)."""

        def on_console(msg: Any) -> None:
            if msg.type == "error" and not (allow and allow in msg.text):
                self.console.append(f"{page.url}: {msg.text}")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.console.append(f"{page.url}: {exc}"))


def axe_check(page: Any, problems: Problems, where: str) -> None:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    for v in result["violations"]:
        if v.get("impact") in ("serious", "critical"):
            nodes = [n["target"] for n in v["nodes"]][:3]
            problems.axe.append(
                f"{where}: {v['id']} ({v['impact']}) {v['help']} {json.dumps(nodes)}"
            )


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(out), full_page=True)
    return out


def sign_in(page: Any, base: str, who: str, password: str, landing: str) -> None:
    """Through the login page, as a person would."""
    page.goto(f"{base}/login?next={landing}")
    page.fill("#username", who)
    page.fill("#password", password)
    page.click("#login button[type=submit]")
    page.wait_for_url(f"{base}{landing}*")

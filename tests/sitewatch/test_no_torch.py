"""A worker next to a camera recorder runs without torch: every module imports without it.

Training and the ultralytics backend import torch lazily, inside the functions that need it.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["sitewatch", "streams", "geofence", "detector", "models", "api"]
# Scripts that sitewatch starts as separate processes, never imports.
NOT_IMPORTED = {"streams.rtsp_server": "runs under /usr/bin/python3, where python3-gi lives"}

BLOCKER = """
import importlib, importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"torch", "torchvision", "ultralytics"}:
            raise ImportError(f"blocked for this test: {name}")
        return None
sys.meta_path.insert(0, Block())
failed = []
for mod in sys.argv[1:]:
    try:
        importlib.import_module(mod)
    except Exception as exc:
        failed.append(f"{mod}: {type(exc).__name__}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def _modules() -> list[str]:
    found = []
    for pkg in PACKAGES:
        found.append(pkg)
        path = ROOT / pkg
        for info in pkgutil.walk_packages([str(path)], prefix=f"{pkg}."):
            if not info.name.endswith("__main__") and info.name not in NOT_IMPORTED:
                found.append(info.name)
    return found


def test_every_module_imports_without_torch() -> None:
    modules = _modules()
    assert "sitewatch.cli" in modules and "detector.types" in modules
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER, *modules],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, f"modules that need torch at import time:\n{proc.stdout}"
    assert "Traceback" not in proc.stderr


def test_cli_help_does_not_load_torch_or_av() -> None:
    code = (
        "import sys; from sitewatch.cli import build_parser; build_parser();"
        "heavy = ('torch', 'av', 'onnxruntime', 'ultralytics');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert proc.stdout.strip() == "[]"

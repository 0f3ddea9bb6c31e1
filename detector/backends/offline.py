"""Make ultralytics work with no network: no downloads, no pip installs, a local font.

Call :func:`prepare_ultralytics` before the first ``import ultralytics`` in a process:
ultralytics reads these variables when it is imported.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

FONT_CANDIDATES = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
    Path("/Library/Fonts/Arial.ttf"),
    Path("C:/Windows/Fonts/arial.ttf"),
)


def default_config_dir() -> Path:
    """Where sitewatch keeps ultralytics' settings and fonts: ``$XDG_CACHE_HOME/sitewatch``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "sitewatch" / "ultralytics"


def _find_font() -> Path | None:
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    try:
        import matplotlib

        bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        return bundled if bundled.is_file() else None
    except ImportError:
        return None


def prepare_ultralytics(threads: int | None = None) -> Path:
    """Set ``YOLO_OFFLINE=1``, ``YOLO_AUTOINSTALL=0`` and a ``YOLO_CONFIG_DIR`` holding
    ``Ultralytics/Arial.ttf`` (unless the caller set them), and torch's thread count.

    Returns the config dir. Variables already set by the user are left as they are.
    """
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "0")
    os.environ.setdefault("YOLO_VERBOSE", "0")
    config_dir = Path(os.environ.setdefault("YOLO_CONFIG_DIR", str(default_config_dir())))
    fonts = config_dir / "Ultralytics"
    fonts.mkdir(parents=True, exist_ok=True)
    font = _find_font()
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        target = fonts / name
        if not target.exists() and font is not None:
            shutil.copyfile(font, target)
    if threads is not None:
        set_torch_threads(threads)
    return config_dir


def set_torch_threads(threads: int) -> None:
    """Use ``threads`` torch threads, and make ultralytics keep that number.

    ultralytics' ``select_device`` (run when a model is first used or trained) resets
    torch to ``NUM_THREADS`` = CPU cores − 1; patching that constant keeps our choice.
    """
    if not 1 <= threads <= 64:
        raise ValueError(f"threads: expected 1..64, got {threads}")
    import torch

    torch.set_num_threads(threads)
    try:
        from ultralytics.utils import torch_utils
    except ImportError:
        return
    torch_utils.NUM_THREADS = threads

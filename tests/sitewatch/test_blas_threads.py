"""sitewatch's commands load NumPy with one BLAS thread unless the environment says otherwise.

OpenBLAS starts a spinning thread per core when NumPy is imported; a command that solves
3×3 systems pays for them in CPU at every start, and a worker's decoders compete with
them. The threads are counted in ``/proc/self/task`` (Linux).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COUNT = """
import os
import sitewatch.cli  # the entry point of every command, before NumPy
import numpy
print(os.environ["OPENBLAS_NUM_THREADS"], len(os.listdir("/proc/self/task")))
"""


def _run(env_value: str | None) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if env_value is not None:
        env["OPENBLAS_NUM_THREADS"] = env_value
    out = subprocess.run(
        [sys.executable, "-c", COUNT], capture_output=True, text=True, cwd=ROOT, env=env, check=True
    ).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_commands_start_numpy_with_one_blas_thread_unless_told_otherwise() -> None:
    value, threads = _run(None)
    assert value == "1"
    assert threads == 1  # the interpreter's own thread only: no BLAS threads started
    value, threads = _run("2")  # an operator's own setting is kept
    assert value == "2"
    if (os.cpu_count() or 1) >= 2:
        assert threads >= 2

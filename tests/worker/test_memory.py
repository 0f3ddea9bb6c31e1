"""The worker's glibc malloc settings (few arenas, large blocks mapped on their own)."""

from __future__ import annotations

import platform

import pytest

from sitewatch.worker.memory import SETTINGS, tune_malloc


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_tune_malloc_applies_what_the_environment_does_not_set() -> None:
    assert tune_malloc({}) == {var: value for var, _, value in SETTINGS}
    applied = tune_malloc({"MALLOC_ARENA_MAX": "4"})
    assert "MALLOC_ARENA_MAX" not in applied and "MALLOC_MMAP_THRESHOLD_" in applied

"""The scene generator and the detector stay apart: neither package imports the other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(path: Path, *, typing_only: bool = True) -> set[str]:
    """Every module imported in ``path``, lazy imports inside functions too; with
    ``typing_only=False``, not those under ``if TYPE_CHECKING:`` (never run)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
                skip.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def imported_packages(path: Path) -> set[str]:
    """Top-level package of every import in ``path``."""
    return {name.split(".")[0] for name in imported_modules(path)}


def runtime_graph(package: str) -> dict[str, set[str]]:
    """Module → the package's modules it imports when run (``from synth import noise`` too)."""
    mods = {f"{package}.{f.stem}": f for f in (ROOT / package).glob("*.py") if f.stem != "__init__"}
    return {m: imported_modules(f, typing_only=False) & set(mods) - {m} for m, f in mods.items()}


def cycle_in(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``graph`` as a path of modules, or [] when there is none."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:  # back on the stack: the trail from nxt is a cycle
                trail = path + [node]
                return trail[trail.index(nxt) :] + [nxt]
            if nxt not in state and (found := visit(nxt, path + [node])):
                return found
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start, [])):
            return found
    return []


def offenders(package: str, forbidden: str) -> list[str]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no modules under {package}/"
    return [str(f.relative_to(ROOT)) for f in files if forbidden in imported_packages(f)]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("synth", "detector"), ("detector", "synth")],
)
def test_package_does_not_import_the_other(package: str, forbidden: str) -> None:
    assert offenders(package, forbidden) == []


def test_the_import_walk_sees_lazy_imports(tmp_path: Path) -> None:
    src = tmp_path / "m.py"
    src.write_text(
        "import os\n\ndef f():\n    from detector.boxes import iou\n    import synth.noise\n"
    )
    assert imported_packages(src) == {"os", "detector", "synth"}


def test_synth_modules_import_each_other_without_a_cycle() -> None:
    graph = runtime_graph("synth")
    assert "synth.compose" in graph["synth.renderer"]  # the walk sees the package's imports
    assert cycle_in(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert set(cycle_in(graph)) == {"a", "b", "c"}
    assert cycle_in({"a": {"b"}, "b": set()}) == []


def test_old_locations_are_gone() -> None:
    assert not (ROOT / "detector" / "synth").exists()
    assert not (ROOT / "detector" / "evaluation.py").exists()

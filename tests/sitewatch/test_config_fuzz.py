"""A corpus of broken site files, generated at test time from ``configs/example.yaml``.

Every key, list item and value of the example is broken in every way a hostile or
careless author might (wrong types, booleans for numbers, unsafe ids, unknown and
duplicate keys, keys that are not text, control characters, invalid UTF-8, refused YAML
tags, huge numbers, alias loops, alias bombs, deep nesting), at every nesting level.
Each must give exit 2 from ``sitewatch config check``, ``FILE:LINE:`` on every stderr
line (at the line that was broken), no traceback or Python internals, in under a second.
"""

from __future__ import annotations

import datetime as dt
import gc
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from sitewatch.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "configs" / "example.yaml"
VALUE = "SENTINEL_VALUE"
KEY = "SENTINEL_KEY"

# what no message may contain: Python internals, pydantic's own wording, double "got"
BANNED = re.compile(
    r"Traceback|<class|datetime\.|PosixPath|LocalPlane|GroundMap|fit_homography|"
    r"Input should|Value error|function-|\(got |got .* \(got |\bgot (True|False|None)\b"
)
LAUGHS = (
    "[&a [lol, lol, lol, lol, lol, lol, lol, lol, lol], "
    + ", ".join(
        f"&{n} [{', '.join([f'*{p}'] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "]"
)
BAD_VALUES = {
    "boolean": "yes",
    "true": "true",
    "list": "[1, 2]",
    "mapping": "{a: 1}",
    "huge-int": "9" * 5000,
    "nan": ".nan",
    "inf": "-.inf",
    "binary": "!!binary aGVsbG8=",
    "set": "!!set {a: null}",
    "timestamp-tag": "!!timestamp 2020-01-01",
    "python-tag": "!!python/object/apply:os.system [ls]",
    "unknown-tag": "!secret x",
    "control-char": "a\x07b",
    "escaped-control": '"a\\x1bb"',
    "invalid-utf8": "a\udcffb",  # written as the raw byte 0xff
    "self-alias": "&loop [*loop]",
    "laughs": LAUGHS,
    "deep": "[" * 200 + "]" * 200,
}
CONTAINER_VALUES = {"scalar": "5", "text": "hello", "self-alias": "&loop [*loop]", "laughs": LAUGHS}
UNSAFE_IDS = [".", "..", "../x", "a/b", "a.b", "-x", "a b", "''", "x" * 65, "001", "'a\\\\b'"]
NON_TEXT_KEYS = ["1", "true", "~", "2.5", "[a, b]"]


@dataclass(frozen=True)
class Case:
    name: str
    text: str
    line: int | None  # where the error must be reported (None: anywhere)
    must_say: str = ""


def _example() -> dict[str, Any]:
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _walk(node: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield loc, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _walk(value, (*loc, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, (*loc, i))


def _replace(data: Any, loc: tuple[Any, ...], value: Any) -> Any:
    if not loc:
        return value
    head, rest = loc[0], loc[1:]
    if isinstance(data, dict):
        return {k: (_replace(v, rest, value) if k == head else v) for k, v in data.items()}
    return [(_replace(v, rest, value) if i == head else v) for i, v in enumerate(data)]


def _without(data: Any, loc: tuple[Any, ...]) -> Any:
    parent = data
    for part in loc[:-1]:
        parent = parent[part]
    trimmed = {k: v for k, v in parent.items() if k != loc[-1]}
    return _replace(data, loc[:-1], trimmed)


def _dump(data: Any) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(
        data, Dumper=dumper, sort_keys=False, allow_unicode=True, default_flow_style=None
    )


def _with_sentinel(data: Any, loc: tuple[Any, ...], raw: str, marker: str = VALUE) -> Case | None:
    text = _dump(data)
    lines = [i + 1 for i, line in enumerate(text.splitlines()) if marker in line]
    if len(lines) != 1:
        return None
    return Case("", text.replace(marker, raw), lines[0])


def _name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc) or "root"


class _Rotation:
    """Picks ``n`` of ``options`` per call, rotating separately at each nesting depth, so
    that every option is tried at every depth without trying every option everywhere."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.next: dict[tuple[int, int], int] = {}

    def pick(self, options: dict[str, str], depth: int) -> dict[str, str]:
        names = list(options)
        start = self.next.get((depth, len(names)), 0)
        self.next[(depth, len(names))] = start + self.n
        chosen = [names[(start + j) % len(names)] for j in range(min(self.n, len(names)))]
        return {k: options[k] for k in chosen}


def _value_cases(data: dict[str, Any]) -> Iterator[Case]:
    rotation, containers = _Rotation(4), _Rotation(2)
    for loc, node in _walk(data):
        if not loc:
            continue
        if isinstance(node, dict | list):
            bad = containers.pick(CONTAINER_VALUES, len(loc))
        elif isinstance(node, bool) or node is None:
            continue  # a boolean field takes yes; an optional one takes nothing
        else:
            bad = rotation.pick(BAD_VALUES, len(loc))
        for kind, raw in bad.items():
            case = _with_sentinel(_replace(data, loc, VALUE), loc, raw)
            if case is not None:
                yield Case(f"{_name(loc)}={kind}", case.text, case.line)
        if loc[-1] == "id":
            for raw in UNSAFE_IDS:
                case = _with_sentinel(_replace(data, loc, VALUE), loc, raw)
                if case is not None:
                    yield Case(f"{_name(loc)}=id:{raw}", case.text, case.line)


def _key_cases(data: dict[str, Any]) -> Iterator[Case]:
    rotation = _Rotation(4)
    for loc, node in _walk(data):
        if not isinstance(node, dict) or not node or (loc and loc[-1] == "towns"):
            continue  # town names are free text
        first = next(iter(node))
        extra = {**node, KEY: 1}
        kinds = {
            "unknown-key": "colourful_thing",
            "misspelt-key": f"{first}x",
            "duplicate-key": first,
            **{f"key:{k}": k for k in NON_TEXT_KEYS},
        }
        for kind, raw in rotation.pick(kinds, len(loc)).items():
            case = _with_sentinel(_replace(data, loc, extra), loc, raw, KEY)
            if case is not None:
                say = "did you mean" if kind == "misspelt-key" else ""
                yield Case(f"{_name(loc)}+{kind}", case.text, case.line, say)


def _required_cases(data: dict[str, Any]) -> Iterator[Case]:
    from sitewatch.config.loader import model_at
    from sitewatch.config.site import SiteConfig

    for loc, _node in _walk(data):
        if not loc or not isinstance(loc[-1], str):
            continue
        parent = model_at(SiteConfig, loc[:-1])
        info = parent.model_fields.get(loc[-1]) if parent is not None else None
        if info is not None and info.is_required():
            yield Case(f"{_name(loc)}-missing", _dump(_without(data, loc)), None)


def _fixed_cases() -> Iterator[Case]:
    cam = "cameras:\n  - id: cam-1\n    url: rtsp://127.0.0.1/cam1\n"
    fixed = {
        "reconnect-order": (cam + "    reconnect_max: 2s\n    reconnect_min: 5s\n", 5),
        "reconnect-order-default": (cam + "    reconnect_min: 2m\n", 4),
        "offline-before-read-timeout": (cam + "    offline_after: 2s\n", 4),
        "url-newline": ('cameras:\n  - id: c\n    url: "rtsp://h/1\\nx"\n', 3),
        "url-no-host": ("cameras:\n  - id: c\n    url: rtsp:///x\n", 3),
        "url-empty-host": ("cameras:\n  - id: c\n    url: 'http://:80/x'\n", 3),
        "url-bad-port": ("cameras:\n  - id: c\n    url: rtsp://h:port/x\n", 3),
        "url-scheme": ("cameras:\n  - id: c\n    url: ftp://h/x\n", 3),
        "url-missing-file": ("cameras:\n  - id: c\n    url: nothere.mp4\n", 3),
        "url-folder": ("cameras:\n  - id: c\n    url: .\n", 3),
        "api-host-words": (cam + "api:\n  host: not a host\n", 5),
        "api-host-url": (cam + "api:\n  host: http://x\n", 5),
        "api-host-ip": (cam + "api:\n  host: 300.1.2.3\n", 5),
        "port-yes": (cam + "api:\n  port: yes\n", 5),
        "port-text": (cam + "api:\n  port: '8000'\n", 5),
        "threads-float": (cam + "detector:\n  threads: 2.5\n", 5),
        "resolution-bools": (cam + "    resolution: [true, true]\n", 4),
        "resolution-zero": (cam + "    resolution: [0, 480]\n", 4),
        "id-number": ("cameras:\n  - id: 001\n    url: rtsp://h/1\n", 2),
        "top-list": ("- a\n- b\n", 1),
        "top-scalar": ("hello\n", 1),
        "empty": ("", 1),
        "comments-only": ("# nothing\n", 1),
        "two-documents": (cam + "---\n" + cam, 4),
        "block-deep": ("cameras:\n" + "".join("  " * i + "-\n" for i in range(1, 120)), None),
        "towns-village-slash": (
            "units:\n  district: d\n  towns:\n    t: [a, b/c]\n" + cam.replace("cam-1", "c"),
            4,
        ),
        "ground-origin-pole": (
            cam
            + "    resolution: [100, 100]\n    ground:\n      origin: [0, 90]\n      points:\n"
            + "".join(
                f"        - {{pixel: [{x}, {y}], metres: [{x}, {y}]}}\n"
                for x, y in [(1, 1), (90, 1), (90, 90), (1, 90)]
            ),
            6,
        ),
        "ground-lonlat-range": (
            cam
            + "    resolution: [100, 100]\n    ground:\n      points:\n"
            + "".join(
                f"        - {{pixel: [{x}, {y}], lonlat: [{x * 3}, {y}]}}\n"
                for x, y in [(1, 1), (90, 1), (90, 90), (1, 90)]
            ),
            8,
        ),
    }
    for name, (text, line) in fixed.items():
        yield Case(name, text, line)


def _cases() -> list[Case]:
    data = _example()
    cases = [
        *_value_cases(data),
        *_key_cases(data),
        *_required_cases(data),
        *_fixed_cases(),
    ]
    names = [c.name for c in cases]
    assert len(names) == len(set(names))
    return cases


CASES = _cases()


def _write(path: Path, text: str) -> None:
    # the raw byte 0xff stands in for invalid UTF-8 (see BAD_VALUES)
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


def test_the_corpus_is_large_and_its_base_is_valid(
    corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(CASES) >= 400
    base = corpus_dir / "base.yaml"
    _write(base, _dump(_example()))
    assert main(["config", "check", str(base)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_broken_file_is_refused_with_its_line(
    case: Case, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = corpus_dir / f"case{CASES.index(case)}.yaml"
    _write(path, case.text)
    gc.disable()  # a collection of the whole session's objects is not the check's own cost
    try:
        started = time.process_time()  # CPU time: a loaded CI machine does not make it flaky
        rc = main(["config", "check", str(path)])
        elapsed = time.process_time() - started
    finally:
        gc.enable()
    out = capsys.readouterr()
    lines = out.err.splitlines()
    assert rc == 2, out
    assert lines, "no message"
    prefix = re.compile(rf"^{re.escape(str(path))}:(\d+): \S")
    for line in lines:
        assert prefix.match(line), line
        assert not BANNED.search(line), line
    reported = {int(m.group(1)) for line in lines if (m := prefix.match(line))}
    if case.line is not None:
        assert case.line in reported, (case.line, lines)
    if case.must_say:
        assert any(case.must_say in line for line in lines), lines
    assert elapsed < 1.0


EMPTY_SECTIONS = {
    "detector": "detector:\n",
    "database": "database:\n  # url: sqlite:///x.db\n",
    "api": "api:\n",
    "storage": "storage:\n  # evidence_dir: x\n",
    "units": "units:\n",
    "zones-masks": None,
}


@pytest.mark.parametrize("section", list(EMPTY_SECTIONS))
def test_an_empty_section_means_its_defaults(
    section: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cam = "cameras:\n  - id: cam-1\n    url: rtsp://127.0.0.1/cam1\n"
    text = cam + "    zones:\n    masks:\n" if section == "zones-masks" else cam
    path = tmp_path / "site.yaml"
    path.write_text(text + (EMPTY_SECTIONS[section] or ""), encoding="utf-8")
    assert main(["config", "check", str(path)]) == 0, capsys.readouterr().err


def test_dates_times_and_anchors_are_read_as_written(tmp_path: Path) -> None:
    from sitewatch.config.yamlread import read_yaml

    path = tmp_path / "x.yaml"
    path.write_text(
        "a: 18:00\nb: 2026-10-01\nc: 1e-3\nd: 0x10\ne: &d {x: 1}\nf: {<<: *d, y: 2}\n",
        encoding="utf-8",
    )
    data, lines = read_yaml(path)
    assert data == {
        "a": "18:00",
        "b": "2026-10-01",
        "c": 0.001,
        "d": 16,
        "e": {"x": 1},
        "f": {"x": 1, "y": 2},
    }
    assert not isinstance(data["b"], dt.date)
    assert (lines.line(("f", "y")), lines.line(("f", "x"))) == (6, 5)  # x: where it is given


def test_bombs_are_refused_quickly_and_in_little_memory(tmp_path: Path) -> None:
    import tracemalloc

    from sitewatch.config import ConfigError, load_site

    bombs = {
        "laughs": f"cameras: {LAUGHS}\n",
        "laughs-block": "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        + "".join(
            f"{n}: &{n} [{', '.join([f'*{p}'] * 10)}]\n"
            for p, n in zip("abcdefghi", "bcdefghij", strict=True)
        ),
        "loop": "cameras: &a [*a]\n",
        "deep-flow": "cameras: " + "[" * 100_000 + "]" * 100_000 + "\n",
        "deep-block": "cameras:\n" + "".join("  " * i + "- a:\n" for i in range(1, 400)),
        "huge-int": "cameras:\n  - id: " + "1" * 100_000 + "\n",
        "too-big": "cameras: []\n" + "# padding\n" * 100_000,
    }
    for name, text in bombs.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        tracemalloc.start()
        started = time.process_time()  # CPU seconds, under tracemalloc (which slows it)
        with pytest.raises(ConfigError) as info:
            load_site(path)
        elapsed = time.process_time() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert elapsed < 0.8, (name, elapsed)
        assert peak < 30e6, (name, peak)
        assert all(str(p).startswith(f"{path}:") for p in info.value.problems)


def test_the_installed_command_prints_no_traceback(corpus_dir: Path) -> None:
    """One real process over a sample of the corpus: exit 2, every line FILE:LINE:."""
    sample = CASES[:: max(1, len(CASES) // 60)]
    paths = []
    for i, case in enumerate(sample):
        path = corpus_dir / f"proc{i}.yaml"
        _write(path, case.text)
        paths.append(path)
    proc = subprocess.run(
        [sys.executable, "-m", "sitewatch", "config", "check", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    named = re.compile(r"^(.+?):\d+: ")
    files = set()
    for line in proc.stderr.splitlines():
        m = named.match(line)
        assert m, line
        files.add(m.group(1))
    assert files == {str(p) for p in paths}
    assert "Traceback" not in proc.stderr

"""Evidence files that nothing refers to (a refused request's uploads, a cut-off upload)
are deleted once a day old; referred, young, touched and foreign files are kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import api.evidence_sweep as sweep_module
from api.evidence_store import EvidenceStore
from api.evidence_sweep import sweep
from api.scheduler import sweep_evidence
from tests.api.conftest import Api, jpeg, new_case

DAY = 86400.0


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_unreferenced_old_files_and_unfinished_uploads_go_the_rest_stays(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    kept = store.save_bytes(jpeg(1))
    orphan = store.save_bytes(jpeg(2))
    young = store.save_bytes(jpeg(3))
    for s in (kept, orphan):
        _age(store.path_for(s.storage_key), 2 * DAY)
    cut_off = store.root / "tmp" / "up-crashed"
    cut_off.write_bytes(b"\xff\xd8\xff half an upload")
    _age(cut_off, 2 * DAY)
    fresh_tmp = store.root / "tmp" / "up-now"
    fresh_tmp.write_bytes(b"being written")
    stray = store.path_for(kept.storage_key).parent / "notes.txt"  # not a stored file
    stray.write_text("kept")
    _age(stray, 2 * DAY)
    asked: list[list[str]] = []

    def referenced(digests: list[str]) -> set[str]:
        asked.append(digests)
        return {kept.sha256} & set(digests)

    done = sweep(store, referenced)
    assert (done.files, done.bytes, done.temporary) == (1, orphan.size, 1)
    assert not store.exists(orphan.storage_key) and not cut_off.exists()
    assert store.exists(kept.storage_key) and store.exists(young.storage_key)
    assert fresh_tmp.exists() and stray.exists()
    assert sorted(d for batch in asked for d in batch) == sorted([kept.sha256, orphan.sha256])
    assert sweep(store, referenced).files == 0  # nothing left to do: idempotent


def test_a_file_stored_again_is_young_again(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    first = store.save_bytes(jpeg(4))
    _age(store.path_for(first.storage_key), 2 * DAY)
    again = store.save_bytes(jpeg(4))  # a request that is about to refer to it
    assert not again.created and again.storage_key == first.storage_key
    assert sweep(store, lambda digests: set()).files == 0
    assert store.exists(first.storage_key)


def test_links_are_never_followed_nor_deleted(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(jpeg(5))
    _age(outside, 2 * DAY)
    link = store.root / "tmp" / "up-link"
    link.symlink_to(outside)
    os.utime(link, (time.time() - 2 * DAY,) * 2, follow_symlinks=False)
    assert sweep(store, lambda digests: set()).temporary == 0
    assert outside.exists() and link.is_symlink()


def test_the_database_is_asked_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_module, "BATCH", 2)
    store = EvidenceStore(tmp_path)
    stored = [store.save_bytes(jpeg(10 + k)) for k in range(5)]
    for s in stored:
        _age(store.path_for(s.storage_key), 2 * DAY)
    sizes: list[int] = []

    def referenced(digests: list[str]) -> set[str]:
        sizes.append(len(digests))
        return set()

    assert sweep(store, referenced).files == 5
    assert sorted(sizes) == [1, 2, 2]


def test_min_age_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="min_age"):
        sweep(EvidenceStore(tmp_path), lambda digests: set(), min_age=0)


def test_a_refused_transition_leaves_its_photo_until_the_sweep(api: Api) -> None:
    cid = new_case(api)
    refused = api.client.post(  # the case is still being reported: nothing to rectify
        f"/api/v1/cases/{cid}/transitions",
        headers=api.auth("rectifier"),
        data={"name": "rectified", "area_m2": "10", "comment": "已拆除"},
        files=[("files", ("after.jpg", jpeg(77), "image/jpeg"))],
    )
    assert refused.status_code in (403, 409), refused.text
    store = api.services.store
    files = [p for p in store.root.glob("??/??/*") if p.is_file()]
    case = api.client.get(f"/api/v1/cases/{cid}", headers=api.auth("operator")).json()
    referred = {e["sha256"] for e in case["evidence"]}
    orphans = [p for p in files if p.name not in referred]
    assert len(orphans) == 1 and referred  # the photo, beside the detection's snapshot
    for p in files:
        _age(p, 2 * DAY)
    assert sweep_evidence(api.services).files == 1
    assert not orphans[0].exists()
    assert all(p.exists() for p in files if p.name in referred)
    download = api.client.get(case["evidence"][0]["url"], headers=api.auth("operator"))
    assert download.status_code == 200

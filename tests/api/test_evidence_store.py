"""Content-addressed evidence: type by content, size limits, dedupe, names, keys, MP4 boxes."""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from starlette.datastructures import UploadFile

from api.evidence_store import (
    JPEG,
    MP4,
    PDF,
    PNG,
    EvidenceStore,
    UploadRejected,
    check_upload_name,
    top_level_boxes,
)


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), colour: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (colour, 120, 200)).save(buf, format=fmt)
    return buf.getvalue()


def stored_files(root: Path) -> list[Path]:
    return [p for p in (root / "blobs").rglob("*") if p.is_file()]


@pytest.fixture()
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path)


@pytest.fixture(scope="module")
def mp4_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    folder = tmp_path_factory.mktemp("mp4")
    out = {}
    for name, flags in (("plain", []), ("fast", ["-movflags", "+faststart"])):
        path = folder / f"{name}.mp4"
        cmd = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=5"]
        cmd += ["-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", *flags, str(path)]
        subprocess.run(cmd, check=True, timeout=60)
        out[name] = path
    return out


def box_order(path: Path) -> list[bytes]:
    with path.open("rb") as f:
        return [b[0] for b in top_level_boxes(f, path.stat().st_size)]


def test_images_and_pdf_are_stored_by_hash(store: EvidenceStore, tmp_path: Path) -> None:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    for data, kind in ((image_bytes("JPEG"), JPEG), (image_bytes("PNG"), PNG), (pdf, PDF)):
        saved = store.save_bytes(data)
        assert saved.media_type == kind and saved.size == len(data) and saved.created
        assert saved.sha256 == hashlib.sha256(data).hexdigest()
        path = store.path_for(saved.storage_key)
        assert path.read_bytes() == data
        assert path.is_relative_to(tmp_path / "blobs") and path.name == saved.sha256
    assert len(stored_files(tmp_path)) == 3  # the temp folder is empty again


def test_same_bytes_are_stored_once(store: EvidenceStore, tmp_path: Path) -> None:
    data = image_bytes("JPEG")
    first = store.save_bytes(data)
    second = store.save_chunks([data[:10], data[10:]])
    assert first.storage_key == second.storage_key
    assert (first.created, second.created) == (True, False)
    assert len(stored_files(tmp_path)) == 1


def test_concurrent_duplicates_store_one_file(store: EvidenceStore, tmp_path: Path) -> None:
    data = image_bytes("PNG", (200, 200))
    results = []
    barrier = threading.Barrier(8)

    def save() -> None:
        barrier.wait()
        results.append(store.save_bytes(data))

    threads = [threading.Thread(target=save) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.created for r in results) == 1
    assert len({r.storage_key for r in results}) == 1
    assert len(stored_files(tmp_path)) == 1


def test_wrong_types_are_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("clip.mp4", b"\0" * 5_000_000)  # a zip bomb in small
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\0" * 64
    elf = Path("/bin/true").read_bytes()[:4096]
    for bad in (elf, b"MZ\x90\x00" + b"\0" * 200, zipped.getvalue(), heic, b"GIF89a" + b"\0" * 20):
        with pytest.raises(UploadRejected) as err:
            store.save_bytes(bad)
        assert err.value.status == 415
    with pytest.raises(UploadRejected) as err:
        store.save_bytes(b"")
    assert err.value.status == 400
    with pytest.raises(UploadRejected) as err:  # allowed types narrowed by the route
        store.save_bytes(image_bytes("PNG"), allowed=[JPEG])
    assert err.value.status == 415
    assert stored_files(tmp_path) == []


def test_broken_image_is_refused(store: EvidenceStore, tmp_path: Path) -> None:
    data = image_bytes("JPEG", (320, 240))
    with pytest.raises(UploadRejected) as err:
        store.save_bytes(data[: len(data) // 3])  # JPEG header, then garbage ends
    assert err.value.status == 422
    png = image_bytes("PNG")
    with pytest.raises(UploadRejected) as err:
        store.save_bytes(png[:40] + b"\xff" * 100)
    assert err.value.status == 422
    assert stored_files(tmp_path) == []


def test_pixel_bomb_is_refused(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, max_image_pixels=100 * 100)
    store.save_bytes(image_bytes("PNG", (100, 100)))
    with pytest.raises(UploadRejected) as err:
        store.save_bytes(image_bytes("PNG", (101, 100)))
    assert err.value.status == 413
    assert len(stored_files(tmp_path)) == 1


def test_too_big_is_refused_as_soon_as_the_limit_is_passed(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path, {JPEG: 2000})
    data = image_bytes("JPEG")
    yielded = 0

    def chunks() -> Iterator[bytes]:
        nonlocal yielded
        yielded += 1
        yield data[:500]
        for _ in range(1000):
            yielded += 1
            yield b"\0" * 500

    with pytest.raises(UploadRejected) as err:
        store.save_chunks(chunks())
    assert err.value.status == 413
    assert yielded == 5  # 2 500 bytes: the first chunk past the 2 000-byte limit
    assert stored_files(tmp_path) == []


def test_async_upload_file(store: EvidenceStore) -> None:
    data = image_bytes("JPEG", (640, 480))
    upload = UploadFile(io.BytesIO(data), filename="../../before.jpg")
    saved = asyncio.run(store.save_upload(upload))
    assert saved.sha256 == hashlib.sha256(data).hexdigest() and saved.media_type == JPEG
    assert "before" not in str(store.path_for(saved.storage_key))


def test_faststart_mp4_is_stored_as_is(store: EvidenceStore, mp4_files: dict[str, Path]) -> None:
    data = mp4_files["fast"].read_bytes()
    saved = store.save_bytes(data)
    assert saved.media_type == MP4 and saved.sha256 == hashlib.sha256(data).hexdigest()


def test_mp4_without_faststart_is_rewritten(
    store: EvidenceStore, mp4_files: dict[str, Path], tmp_path: Path
) -> None:
    data = mp4_files["plain"].read_bytes()
    order = box_order(mp4_files["plain"])
    assert order.index(b"mdat") < order.index(b"moov")  # the fixture really is not faststart
    saved = store.save_bytes(data)
    path = store.path_for(saved.storage_key)
    fixed = box_order(path)
    assert fixed.index(b"moov") < fixed.index(b"mdat")
    assert saved.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert saved.size == path.stat().st_size
    again = store.save_bytes(data)  # the rewrite is deterministic: still stored once
    assert again.storage_key == saved.storage_key and not again.created
    assert len(stored_files(tmp_path)) == 1


def test_mp4_without_faststart_refused_without_ffmpeg(
    tmp_path: Path, mp4_files: dict[str, Path]
) -> None:
    store = EvidenceStore(tmp_path, ffmpeg=None)
    with pytest.raises(UploadRejected, match="faststart") as err:
        store.save_bytes(mp4_files["plain"].read_bytes())
    assert err.value.status == 422


def test_unfinished_or_broken_mp4_is_refused(
    store: EvidenceStore, mp4_files: dict[str, Path], tmp_path: Path
) -> None:
    data = mp4_files["plain"].read_bytes()
    boxes = dict((t, (o, s)) for t, o, s in top_level_boxes(io.BytesIO(data), len(data)))
    no_moov = data[: boxes[b"moov"][0]]  # a recording cut before its index was written
    truncated = mp4_files["fast"].read_bytes()[:-100]
    fake = b"\x00\x00\x00\x14ftypisom\x00\x00\x02\x00isom" + b"\x00\x00\x00\x08free"
    for bad in (no_moov, truncated, fake):
        with pytest.raises(UploadRejected) as err:
            store.save_bytes(bad)
        assert err.value.status == 422
    assert stored_files(tmp_path) == []


@pytest.mark.parametrize("name", ["before.jpg", "照片 1.JPG", "clip.mp4", "a..b.pdf"])
def test_plain_names_are_accepted(name: str) -> None:
    assert check_upload_name(name) == name


@pytest.mark.parametrize(
    "name",
    ["../../x", "/etc/passwd", "a\x00.jpg", "..", ".", "dir/x.jpg", "C:\\x.jpg", "C:x.jpg",
     "..\\..\\x", "", "   ", None, "a\nb.jpg", "x" * 300],
)  # fmt: skip
def test_path_tricks_in_names_are_refused(name: str | None) -> None:
    with pytest.raises(UploadRejected) as err:
        check_upload_name(name)
    assert err.value.status == 400


def test_path_for_refuses_anything_but_hash_keys(store: EvidenceStore) -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    assert store.path_for(EvidenceStore.key_for(digest)).name == digest
    bad = [
        "../../etc/passwd",
        "/etc/passwd",
        f"{digest[:2]}/{digest[2:4]}/../{digest}",
        f"00/00/{digest}",  # well-formed parts that do not belong together
        EvidenceStore.key_for(digest).upper(),
        EvidenceStore.key_for(digest) + "\x00",
        EvidenceStore.key_for(digest) + "\n",
        digest,
        "tmp/up-1234",
    ]
    for key in bad:
        with pytest.raises(ValueError):
            store.path_for(key)


def test_stored_files_serve_ranges_with_file_response(store: EvidenceStore) -> None:
    from fastapi import FastAPI, HTTPException
    from fastapi.responses import FileResponse
    from fastapi.testclient import TestClient

    data = image_bytes("PNG", (300, 300), colour=7)
    saved = store.save_bytes(data)
    app = FastAPI()

    @app.get("/evidence/{a}/{b}/{digest}")
    def download(a: str, b: str, digest: str) -> FileResponse:
        try:
            path = store.path_for(f"{a}/{b}/{digest}")
        except ValueError:
            raise HTTPException(404) from None
        return FileResponse(path, media_type=saved.media_type)

    client = TestClient(app)
    url = f"/evidence/{saved.storage_key}"
    full = client.get(url)
    assert full.content == data and full.headers["accept-ranges"] == "bytes"
    assert full.headers["etag"]
    first = client.get(url, headers={"Range": "bytes=0-9"})
    assert first.status_code == 206 and first.content == data[:10]
    middle = client.get(url, headers={"Range": "bytes=100-199"})
    assert middle.content == data[100:200]
    assert middle.headers["content-range"] == f"bytes 100-199/{len(data)}"
    suffix = client.get(url, headers={"Range": "bytes=-50"})
    assert suffix.content == data[-50:]
    past = client.get(url, headers={"Range": f"bytes={len(data) + 10}-"})
    assert past.status_code == 416
    assert client.get(f"/evidence/00/00/{saved.sha256}").status_code == 404  # not its key


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab01/.\\\x00:~ f9"), max_size=80) | st.text(max_size=80))
def test_no_key_or_name_escapes_the_root(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    root = tmp_path_factory.getbasetemp() / "prop"
    store = EvidenceStore(root)
    try:
        path = store.path_for(text)
    except ValueError:
        pass
    else:
        assert path.resolve().is_relative_to(store.root)
    try:
        name = check_upload_name(text)
    except UploadRejected:
        return
    assert (root / name).resolve().parent == root.resolve()

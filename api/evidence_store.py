"""Content-addressed evidence files: ``<root>/blobs/ab/cd/<sha256>``, each stored once.

An upload streams into a temporary file inside the root while it is hashed and counted;
its media type is decided by its first bytes (JPEG, PNG, MP4, PDF; nothing else), the
size limit of that type is enforced as soon as it is passed, images must decode (with a
pixel limit against decompression bombs), and MP4 files must hold ``ftyp`` and ``moov``.
A clip whose ``moov`` comes after ``mdat`` is rewritten once with
``ffmpeg -c copy -movflags +faststart`` (no re-encode) so that every stored clip plays
and seeks in a browser while downloading; the stored hash is that of the rewritten file.
The finished file is linked into place atomically (never overwriting an existing one).
The client's file name never reaches the file system.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
import subprocess
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

import anyio.to_thread
from PIL import Image

JPEG, PNG, MP4, PDF = "image/jpeg", "image/png", "video/mp4", "application/pdf"
MEDIA_TYPES = (JPEG, PNG, MP4, PDF)
DEFAULT_LIMITS = {JPEG: 20 << 20, PNG: 20 << 20, MP4: 200 << 20, PDF: 50 << 20}
# ISO BMFF major brands of MP4 files (not QuickTime ``qt  ``, not HEIF ``heic``/``mif1``)
MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V "}
    | {b"dash", b"mmp4", b"MSNV", b"NDAS", b"f4v ", b"hvc1"}
)
_KEY_RE = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})")
_SNIFF_BYTES = 16
_CHUNK = 1 << 16


class UploadRejected(ValueError):
    """An upload refused for what it is; ``status`` is the HTTP status the API answers."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class StoredEvidence:
    sha256: str
    media_type: str
    size: int
    storage_key: str
    created: bool  # False when the same bytes were already stored


def check_upload_name(name: str | None) -> str:
    """The base name of an upload's file name, or UploadRejected (400) for path tricks.

    Only for display and logs: stored files are named by their hash.
    """
    if name is None or not name.strip():
        raise UploadRejected(400, "file name missing")
    if len(name) > 255:
        raise UploadRejected(400, "file name longer than 255 characters")
    if "\x00" in name or any(ord(c) < 32 for c in name):
        raise UploadRejected(400, "file name contains NUL or control characters")
    if "/" in name or "\\" in name:
        raise UploadRejected(400, f"file name must not contain a path: {name!r}")
    if name in {".", ".."} or (len(name) >= 2 and name[1] == ":"):
        raise UploadRejected(400, f"file name is not a plain name: {name!r}")
    return name


def sniff_media_type(head: bytes) -> str | None:
    """The media type told by a file's first bytes (≥ 12), or None if not allowed."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in MP4_BRANDS:
        return MP4
    return None


def top_level_boxes(f: BinaryIO, size: int) -> list[tuple[bytes, int, int]]:
    """``(type, offset, size)`` of an ISO BMFF file's top-level boxes; ValueError if broken."""
    boxes: list[tuple[bytes, int, int]] = []
    offset = 0
    while offset < size:
        f.seek(offset)
        header = f.read(8)
        if len(header) < 8:
            raise ValueError("truncated box header")
        box_size, box_type = struct.unpack(">I4s", header)
        if box_size == 1:
            large = f.read(8)
            if len(large) < 8:
                raise ValueError("truncated large box header")
            box_size = struct.unpack(">Q", large)[0]
        elif box_size == 0:
            box_size = size - offset
        if box_size < 8 or offset + box_size > size:
            raise ValueError(f"box {box_type!r} at {offset} has a bad size {box_size}")
        boxes.append((box_type, offset, box_size))
        offset += box_size
    return boxes


class AsyncReadable(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


class EvidenceStore:
    """Stores evidence files by content hash under ``root/blobs``."""

    def __init__(
        self,
        root: Path,
        limits: Mapping[str, int] | None = None,
        *,
        verify_images: bool = True,
        max_image_pixels: int = 50_000_000,
        ffmpeg: str | None = "ffmpeg",
    ) -> None:
        self.root = Path(root).resolve() / "blobs"
        self._tmp = self.root / "tmp"
        self._tmp.mkdir(parents=True, exist_ok=True)
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        unknown = set(self.limits) - set(MEDIA_TYPES)
        if unknown:
            raise ValueError(f"limits for unknown media types {sorted(unknown)}")
        self.verify_images = verify_images
        self.max_image_pixels = max_image_pixels
        self.ffmpeg = shutil.which(ffmpeg) if ffmpeg else None

    # -- paths -------------------------------------------------------------------------

    @staticmethod
    def key_for(sha256: str) -> str:
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def path_for(self, storage_key: str) -> Path:
        """The file of a storage key; ValueError for anything that is not a hash key."""
        m = _KEY_RE.fullmatch(storage_key)
        if m is None or not m.group(3).startswith(m.group(1) + m.group(2)):
            raise ValueError(f"not a storage key: {storage_key!r}")
        return self.root / m.group(1) / m.group(2) / m.group(3)

    def exists(self, storage_key: str) -> bool:
        return self.path_for(storage_key).is_file()

    # -- saving ------------------------------------------------------------------------

    def save_bytes(self, data: bytes, allowed: Iterable[str] = MEDIA_TYPES) -> StoredEvidence:
        return self.save_chunks([data], allowed)

    def save_chunks(
        self, chunks: Iterable[bytes], allowed: Iterable[str] = MEDIA_TYPES
    ) -> StoredEvidence:
        """Store a stream of byte chunks (UploadRejected if refused; nothing is kept then)."""
        writer = _Writer(self, frozenset(allowed))
        try:
            for chunk in chunks:
                writer.write(chunk)
            return self._finish(writer)
        finally:
            writer.discard()

    async def save_upload(
        self, upload: AsyncReadable, allowed: Iterable[str] = MEDIA_TYPES
    ) -> StoredEvidence:
        """Store a Starlette ``UploadFile`` (or anything with ``async read(n)``).

        File writes, image decoding and the faststart remux run in worker threads, so the
        event loop is never blocked by a large upload.
        """
        writer = _Writer(self, frozenset(allowed))
        try:
            while chunk := await upload.read(_CHUNK):
                await anyio.to_thread.run_sync(writer.write, chunk)
            return await anyio.to_thread.run_sync(self._finish, writer)
        finally:
            writer.discard()

    def _finish(self, writer: _Writer) -> StoredEvidence:
        media_type, size = writer.close()
        path = writer.path
        digest = writer.sha256.hexdigest()
        if media_type in (JPEG, PNG) and self.verify_images:
            self._check_image(path, media_type)
        elif media_type == MP4:
            rewritten = self._check_mp4(path, size)
            if rewritten is not None:
                writer.replace(rewritten)
                digest, size = _hash_file(rewritten)
        key = self.key_for(digest)
        final = self.path_for(key)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(writer.path, 0o644)
        try:
            os.link(writer.path, final)  # atomic, and never overwrites
            created = True
        except FileExistsError:
            created = False
            os.utime(final)  # in use again: young for the sweep of unreferenced files
        return StoredEvidence(digest, media_type, size, key, created)

    def _check_image(self, path: Path, media_type: str) -> None:
        expected = {JPEG: "JPEG", PNG: "PNG"}[media_type]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as im:
                    if im.format != expected:
                        raise UploadRejected(415, f"content is {im.format}, not {expected}")
                    w, h = im.size
                    if w * h > self.max_image_pixels:
                        raise UploadRejected(
                            413, f"image has {w}×{h} pixels, over {self.max_image_pixels}"
                        )
                    im.load()
        except UploadRejected:
            raise
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
            raise UploadRejected(422, f"image does not decode: {exc}") from exc

    def _check_mp4(self, path: Path, size: int) -> Path | None:
        """Check the boxes; return a faststart rewrite when ``moov`` follows ``mdat``."""
        try:
            with path.open("rb") as f:
                boxes = top_level_boxes(f, size)
        except ValueError as exc:
            raise UploadRejected(422, f"broken MP4: {exc}") from exc
        order = [b[0] for b in boxes]
        if not order or order[0] != b"ftyp":
            raise UploadRejected(422, "MP4 does not start with an ftyp box")
        if b"moov" not in order:
            raise UploadRejected(422, "MP4 has no moov box (unfinished recording?)")
        if b"mdat" not in order or order.index(b"moov") < order.index(b"mdat"):
            return None
        return self._faststart(path)

    def _faststart(self, path: Path) -> Path:
        if self.ffmpeg is None:
            raise UploadRejected(422, "MP4 is not +faststart (moov after mdat)")
        out = path.with_name(path.name + ".fast.mp4")
        cmd = [self.ffmpeg, "-nostdin", "-v", "error", "-y", "-i", str(path)]
        cmd += ["-map", "0", "-c", "copy", "-map_metadata", "-1", "-fflags", "+bitexact"]
        cmd += ["-flags:v", "+bitexact", "-flags:a", "+bitexact"]
        cmd += ["-movflags", "+faststart", "-f", "mp4", str(out)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            out.unlink(missing_ok=True)
            raise UploadRejected(422, f"MP4 could not be remuxed: {done.stderr.strip()[:200]}")
        return out


class _Writer:
    """A temporary file in the store that hashes, counts and checks as it is written."""

    def __init__(self, store: EvidenceStore, allowed: frozenset[str]) -> None:
        self._store = store
        self._allowed = allowed
        fd, name = tempfile.mkstemp(dir=store._tmp, prefix="up-")
        self._file: BinaryIO | None = os.fdopen(fd, "wb")
        self.path = Path(name)
        self._extra: list[Path] = []
        self.sha256 = hashlib.sha256()
        self.size = 0
        self._head = b""
        self.media_type: str | None = None
        self._limit = max(store.limits[t] for t in allowed) if allowed else 0

    def write(self, chunk: bytes) -> None:
        assert self._file is not None
        if self.media_type is None and len(self._head) < _SNIFF_BYTES:
            self._head += chunk[: _SNIFF_BYTES - len(self._head)]
            if len(self._head) >= _SNIFF_BYTES:
                self._decide()
        self.size += len(chunk)
        if self.size > self._limit:
            raise UploadRejected(413, f"file is larger than {self._limit} bytes")
        self.sha256.update(chunk)
        self._file.write(chunk)

    def _decide(self) -> None:
        kind = sniff_media_type(self._head)
        if kind is None or kind not in self._allowed:
            allowed = ", ".join(sorted(self._allowed))
            raise UploadRejected(415, f"content is not one of the allowed types ({allowed})")
        self.media_type = kind
        self._limit = self._store.limits[kind]

    def close(self) -> tuple[str, int]:
        assert self._file is not None
        if self.media_type is None:
            if not self._head:
                raise UploadRejected(400, "empty file")
            self._decide()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        assert self.media_type is not None
        return self.media_type, self.size

    def replace(self, path: Path) -> None:
        self._extra.append(self.path)
        self.path = path

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        for p in [self.path, *self._extra]:
            p.unlink(missing_ok=True)


def _hash_file(path: Path) -> tuple[str, int]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return h.hexdigest(), size

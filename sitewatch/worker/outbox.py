"""The worker's outbox: every event is written here first, then delivered from here.

One SQLite file (WAL, ``synchronous=FULL``: a committed row survives kill -9 and power
loss). A row is one event for one channel (``api``, ``webhook:0``, …); ``(channel, key)``
is unique, so recording the same detection twice (a restart that re-emits it) keeps one
row. Rows are delivered oldest first per channel; a row ends ``sent`` or ``failed`` (a
permanent refusal, kept with its reason as a dead letter).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    channel    TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    camera     TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    folder     TEXT,
    files      TEXT,
    created    REAL    NOT NULL,
    not_before REAL    NOT NULL,
    state      TEXT    NOT NULL DEFAULT 'pending'
                       CHECK (state IN ('pending', 'sent', 'failed')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    done_at    REAL,
    UNIQUE (channel, key)
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (channel, state, seq);
"""


@dataclass(frozen=True)
class OutboxRow:
    seq: int
    channel: str
    key: str
    camera: str
    payload: dict[str, Any]
    folder: str | None
    files: list[str] | None
    created: float
    not_before: float
    state: str
    attempts: int
    last_error: str | None


class Outbox:
    """The outbox file at ``path`` (created with its folder when absent). Thread-safe."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path}: outbox schema {version} is newer than this worker's "
                    f"({SCHEMA_VERSION}): upgrade the worker"
                )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def record(
        self,
        channels: Sequence[str],
        *,
        key: str,
        camera: str,
        payload: dict[str, Any],
        folder: str | None,
        now: float,
        not_before: float | None = None,
    ) -> int:
        """Write the event for every channel in one transaction; the number of new rows."""
        text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
        values = (key, camera, text, folder, now, now if not_before is None else not_before)
        added = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for channel in channels:
                    cur = self._db.execute(
                        "INSERT OR IGNORE INTO outbox (channel, key, camera, payload, folder, "
                        "created, not_before) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (channel, *values),
                    )
                    added += cur.rowcount
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return added

    def head(self, channel: str) -> OutboxRow | None:
        """The oldest pending row of ``channel``."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM outbox WHERE channel = ? AND state = 'pending' ORDER BY seq LIMIT 1",
                (channel,),
            ).fetchone()
        return None if row is None else _row(row)

    def set_files(self, seq: int, files: Iterable[str]) -> None:
        """Fix the evidence files a row is sent with (so that every retry sends the same)."""
        self._update("UPDATE outbox SET files = ? WHERE seq = ?", (json.dumps(list(files)), seq))

    def attempted(self, seq: int, error: str) -> None:
        self._update(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
            (error[:2000], seq),
        )

    def sent(self, seq: int, now: float) -> None:
        self._update(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, done_at = ? WHERE seq = ?",
            (now, seq),
        )

    def failed(self, seq: int, reason: str, now: float) -> None:
        """A permanent refusal: the row stays as a dead letter with its reason."""
        self._update(
            "UPDATE outbox SET state = 'failed', attempts = attempts + 1, last_error = ?, "
            "done_at = ? WHERE seq = ?",
            (reason[:2000], now, seq),
        )

    def rows(self, channel: str | None = None) -> list[OutboxRow]:
        """Every row (of ``channel``), oldest first."""
        query, args = "SELECT * FROM outbox ORDER BY seq", tuple[str, ...]()
        if channel is not None:
            query, args = "SELECT * FROM outbox WHERE channel = ? ORDER BY seq", (channel,)
        with self._lock:
            return [_row(r) for r in self._db.execute(query, args).fetchall()]

    def stats(self, now: float) -> dict[str, tuple[int, float, int]]:
        """Per channel: (pending rows, age of the oldest pending in seconds, failed rows)."""
        with self._lock:
            found = self._db.execute(
                "SELECT channel, SUM(state = 'pending'), "
                "MIN(CASE WHEN state = 'pending' THEN created END), SUM(state = 'failed') "
                "FROM outbox GROUP BY channel"
            ).fetchall()
        return {
            ch: (int(p or 0), 0.0 if oldest is None else max(0.0, now - oldest), int(f or 0))
            for ch, p, oldest, f in found
        }

    def prune(self, older_than: float) -> int:
        """Forget rows sent before ``older_than`` (dead letters are kept)."""
        with self._lock:
            cur = self._db.execute(
                "DELETE FROM outbox WHERE state = 'sent' AND done_at < ?", (older_than,)
            )
        return cur.rowcount

    def _update(self, sql: str, args: tuple[Any, ...]) -> None:
        with self._lock:
            self._db.execute(sql, args)


def _row(row: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        seq=row["seq"],
        channel=row["channel"],
        key=row["key"],
        camera=row["camera"],
        payload=json.loads(row["payload"]),
        folder=row["folder"],
        files=None if row["files"] is None else json.loads(row["files"]),
        created=row["created"],
        not_before=row["not_before"],
        state=row["state"],
        attempts=row["attempts"],
        last_error=row["last_error"],
    )

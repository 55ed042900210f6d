"""The durable outbox: every reading stays on disk until the server has acknowledged the batch that holds it.

A `journal` remembers (seq, n_readings) of every batch written for 30 days, acknowledged or not, so the
agent can show what it handed over.

SQLite in WAL mode with synchronous=FULL: one transaction, so one fsync, per batch. Batches are numbered on write
(DESIGN §4.2): `seq` increases by one per batch for the life of the agent and survives restarts, because the
last seq is kept in the same transaction as the batch. Rows are deleted only by `ack(n)` (every batch <= n is
durably stored by the server), so an uplink of any kind (HTTP, MQTT) just reads `pending()` and calls `ack()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exposure import Reading
from exposure.batch import encode_readings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    seq        INTEGER PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    n_readings INTEGER NOT NULL,
    readings   TEXT    NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    seq        INTEGER PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    n_readings INTEGER NOT NULL
);
"""

#: how long the journal remembers written batches after they were acknowledged
JOURNAL_KEEP_MS = 30 * 24 * 3600 * 1000


class OutboxFull(Exception):
    """The outbox holds its configured maximum: reading stops until the server acknowledges batches."""


@dataclass(frozen=True, slots=True)
class StoredBatch:
    seq: int
    created_ms: int
    n_readings: int
    readings_json: str


@dataclass(frozen=True, slots=True)
class OutboxStats:
    batches: int
    readings: int
    oldest_created_ms: int | None
    last_seq: int
    acked_seq: int


class Outbox:
    """A thread-safe SQLite outbox. Blocking methods; the async wrappers run them in a worker thread."""

    def __init__(self, path: Path, *, max_readings: int = 5_000_000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_readings = max_readings
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._readings = self._db.execute("SELECT COALESCE(SUM(n_readings), 0) FROM batches").fetchone()[0]
        self.changed = asyncio.Event()

    # -- blocking API -------------------------------------------------------------------------------------
    def append(self, readings: Sequence[Reading], *, now_ms: int, past_bound: bool = False) -> int:
        """Write one batch durably and return its seq. Raises OutboxFull when over the bound, unless
        `past_bound` (the agent's last batch at shutdown: better a little over the bound than readings lost)."""
        if not readings:
            raise ValueError("an empty batch is not written")
        payload = encode_readings(list(readings))
        with self._lock:
            if not past_bound and self._readings + len(readings) > self.max_readings:
                raise OutboxFull(f"outbox holds {self._readings} readings (max {self.max_readings})")
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                seq = self._meta(cur, "last_seq") + 1
                cur.execute(
                    "INSERT INTO batches (seq, created_ms, n_readings, readings) VALUES (?, ?, ?, ?)",
                    (seq, now_ms, len(readings), payload),
                )
                cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_seq', ?)", (seq,))
                cur.execute(
                    "INSERT INTO journal (seq, created_ms, n_readings) VALUES (?, ?, ?)", (seq, now_ms, len(readings))
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._readings += len(readings)
        return seq

    def pending(self, *, limit: int = 100, after_seq: int = 0) -> list[StoredBatch]:
        """The oldest unacknowledged batches with seq > after_seq."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, created_ms, n_readings, readings FROM batches WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [StoredBatch(*row) for row in rows]

    def ack(self, acked_seq: int) -> int:
        """The server holds every batch <= acked_seq: delete them. Returns how many readings were freed."""
        with self._lock:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                freed = cur.execute(
                    "SELECT COALESCE(SUM(n_readings), 0) FROM batches WHERE seq <= ?", (acked_seq,)
                ).fetchone()[0]
                cur.execute("DELETE FROM batches WHERE seq <= ?", (acked_seq,))
                cur.execute(
                    "DELETE FROM journal WHERE seq <= ? AND created_ms < (SELECT MAX(created_ms) FROM journal) - ?",
                    (acked_seq, JOURNAL_KEEP_MS),
                )
                if acked_seq > self._meta(cur, "acked_seq"):
                    cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('acked_seq', ?)", (acked_seq,))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._readings -= freed
        return int(freed)

    def stats(self) -> OutboxStats:
        with self._lock:
            n, readings, oldest = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(n_readings), 0), MIN(created_ms) FROM batches"
            ).fetchone()
            cur = self._db.cursor()
            return OutboxStats(n, readings, oldest, self._meta(cur, "last_seq"), self._meta(cur, "acked_seq"))

    def journal(self) -> list[tuple[int, int, int]]:
        """(seq, created_ms, n_readings) of every batch written in the last 30 days, acknowledged or not: what
        the agent can prove it handed to the outbox."""
        with self._lock:
            return [
                tuple(row) for row in self._db.execute("SELECT seq, created_ms, n_readings FROM journal ORDER BY seq")
            ]

    def has_room(self, n: int) -> bool:
        return self._readings + n <= self.max_readings

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- async wrappers -----------------------------------------------------------------------------------
    async def append_async(self, readings: Sequence[Reading], *, now_ms: int, past_bound: bool = False) -> int:
        seq = await asyncio.to_thread(self.append, readings, now_ms=now_ms, past_bound=past_bound)
        self._notify()
        return seq

    async def ack_async(self, acked_seq: int) -> int:
        freed = await asyncio.to_thread(self.ack, acked_seq)
        self._notify()
        return freed

    async def wait_changed(self, timeout: float) -> None:
        """Wait until a batch is appended or acknowledged, or `timeout` seconds pass."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout)
        self.changed.clear()

    def _notify(self) -> None:
        self.changed.set()

    @staticmethod
    def _meta(cur: sqlite3.Cursor, key: str) -> int:
        row = cur.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

"""The durable outbox: every reading stays on disk until the server has acknowledged the batch that holds it.

A `journal` remembers (seq, n_readings) of every batch written for 30 days, acknowledged or not, so the
agent can show what it handed over.

SQLite in WAL mode with synchronous=FULL: one transaction, so one fsync, per batch. Batches are numbered on write
(DESIGN §4.2): `seq` increases by one per batch for the life of the agent and survives restarts, because the
last seq is kept in the same transaction as the batch. Rows are deleted only by `ack(n)` (every batch <= n is
durably stored by the server), so an uplink of any kind (HTTP, MQTT) just reads `pending()` and calls `ack()`.

A full disk is an `OutboxDiskFull`, never a crash: the caller keeps the readings and tries again. A reserve file
(`<outbox>.reserve`, `reserve_bytes`) holds back space for what must work on a full disk: deleting acknowledged
batches. When a delete fails for want of space the reserve is given up, the delete retried and the WAL
checkpointed (the deleted batches' pages are then free for the next ones); the reserve is put back once the disk
has room for it four times over. The WAL is kept small so that a checkpoint needs little room. A batch may
carry the gaps of readings the agent had to drop.

Held readings (from a broker that redelivers a message not yet acknowledged, e.g. after a crash between this
write and the acknowledgement) are written only once: their (sensor, quantity, ts) keys go into `held_keys` in
the batch's transaction, and a reading whose key is there is left out. The newest `HELD_KEYS` keys are kept,
far more than a broker has in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from exposure import Reading
from exposure.batch import EdgeGap, encode_gaps, encode_readings

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    seq        INTEGER PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    n_readings INTEGER NOT NULL,
    readings   TEXT    NOT NULL,
    gaps       TEXT    NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS held_keys (
    sensor   TEXT    NOT NULL,
    quantity TEXT    NOT NULL,
    ts       INTEGER NOT NULL,
    UNIQUE (sensor, quantity, ts)
);
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


class OutboxDiskFull(Exception):
    """The disk under the outbox is full: the batch was not written (nothing partial is kept)."""


#: how many held readings' keys are remembered to drop a broker's redelivery of what is already written
HELD_KEYS = 100_000

#: space held back for deleting acknowledged batches on a full disk
RESERVE_BYTES = 1024 * 1024


def _is_disk_full(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code == sqlite3.SQLITE_FULL or (code is not None and code & 0xFF == sqlite3.SQLITE_IOERR) or (
        "disk is full" in str(exc) or "disk I/O error" in str(exc))


@dataclass(frozen=True, slots=True)
class StoredBatch:
    seq: int
    created_ms: int
    n_readings: int
    readings_json: str
    gaps_json: str = ""


@dataclass(frozen=True, slots=True)
class OutboxStats:
    batches: int
    readings: int
    oldest_created_ms: int | None
    last_seq: int
    acked_seq: int


class Outbox:
    """A thread-safe SQLite outbox. Blocking methods; the async wrappers run them in a worker thread."""

    def __init__(self, path: Path, *, max_readings: int = 5_000_000, reserve_bytes: int = RESERVE_BYTES) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_readings = max_readings
        self.reserve_path = path.with_name(path.name + ".reserve")
        self.reserve_bytes = reserve_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        # a small WAL: checkpointed every 100 pages (400 KiB) and cut back to 1 MiB, so a checkpoint on a full
        # disk needs little room and deleted batches free pages that the next ones reuse
        self._db.execute("PRAGMA wal_autocheckpoint=100")
        self._db.execute("PRAGMA journal_size_limit=1048576")
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(batches)")}
        if "gaps" not in columns:  # an outbox written by an agent before gaps existed
            self._db.execute("ALTER TABLE batches ADD COLUMN gaps TEXT NOT NULL DEFAULT ''")
        self._readings = self._db.execute("SELECT COALESCE(SUM(n_readings), 0) FROM batches").fetchone()[0]
        self.changed = asyncio.Event()
        self.keep_reserve()

    # -- the reserve ----------------------------------------------------------------------------------------
    def keep_reserve(self) -> bool:
        """Make sure the reserve file exists at full size; False when the disk has no room for it (yet)."""
        try:
            if self.reserve_path.exists() and self.reserve_path.stat().st_size >= self.reserve_bytes:
                return True
            with open(self.reserve_path, "wb") as f:
                f.write(b"\0" * self.reserve_bytes)
                f.flush()
                os.fsync(f.fileno())
            return True
        except OSError:
            self.reserve_path.unlink(missing_ok=True)
            return False

    def release_reserve(self) -> bool:
        """Give the reserved space back to the disk; False when there was none."""
        try:
            self.reserve_path.unlink()
            return True
        except FileNotFoundError:
            return False

    # -- blocking API -------------------------------------------------------------------------------------
    def append(
        self, readings: Sequence[Reading], *, now_ms: int, past_bound: bool = False, gaps: Sequence[EdgeGap] = (),
        held: Sequence[Reading] = (),
    ) -> int | None:
        """Write one batch durably and return its seq. Raises OutboxFull when over the bound, unless
        `past_bound` (the agent's last batch at shutdown: better a little over the bound than readings lost), and
        OutboxDiskFull when the disk has no room. A batch of only `gaps` (no readings) is allowed. `held`
        readings already written are left out; None when nothing was left to write."""
        if not readings and not gaps and not held:
            raise ValueError("an empty batch is not written")
        try:
            return self._insert(readings, now_ms=now_ms, past_bound=past_bound, gaps=gaps, held=held)
        except OutboxDiskFull:
            # The WAL may hold the space that deleted batches left: moving it into the database and truncating
            # it gives that back. The reserve is not touched here: it is for deleting acknowledged batches.
            if not self._checkpoint():
                raise
            return self._insert(readings, now_ms=now_ms, past_bound=past_bound, gaps=gaps, held=held)

    def _checkpoint(self) -> bool:
        """Copy the WAL into the database and truncate it; False when it could not (a reader holds it)."""
        with self._lock:
            try:
                busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.Error:
                return False
        return not busy

    def _insert(
        self, readings: Sequence[Reading], *, now_ms: int, past_bound: bool, gaps: Sequence[EdgeGap],
        held: Sequence[Reading],
    ) -> int | None:
        with self._lock:
            if not past_bound and self._readings + len(readings) + len(held) > self.max_readings:
                raise OutboxFull(f"outbox holds {self._readings} readings (max {self.max_readings})")
            cur = self._db.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                try:
                    readings = [*readings, *self._new_held(cur, held)]
                    if not readings and not gaps:
                        cur.execute("COMMIT")
                        return None
                    payload = encode_readings(readings)
                    seq = self._meta(cur, "last_seq") + 1
                    cur.execute(
                        "INSERT INTO batches (seq, created_ms, n_readings, readings, gaps) VALUES (?, ?, ?, ?, ?)",
                        (seq, now_ms, len(readings), payload, encode_gaps(list(gaps))),
                    )
                    cur.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('last_seq', ?)", (seq,))
                    cur.execute(
                        "INSERT INTO journal (seq, created_ms, n_readings) VALUES (?, ?, ?)",
                        (seq, now_ms, len(readings)),
                    )
                    cur.execute("COMMIT")
                except BaseException:
                    self._rollback(cur)
                    raise
            except sqlite3.Error as exc:
                if _is_disk_full(exc):
                    raise OutboxDiskFull(f"{self.path}: {exc}") from exc
                raise
            self._readings += len(readings)
        return seq

    @staticmethod
    def _new_held(cur: sqlite3.Cursor, held: Sequence[Reading]) -> list[Reading]:
        """The held readings not written before (their keys recorded in this transaction)."""
        if not held:
            return []
        new = []
        for r in held:
            cur.execute("INSERT OR IGNORE INTO held_keys (sensor, quantity, ts) VALUES (?, ?, ?)",
                        (r.sensor, r.quantity, r.ts))
            if cur.rowcount:
                new.append(r)
        cur.execute("DELETE FROM held_keys WHERE rowid <= (SELECT MAX(rowid) FROM held_keys) - ?", (HELD_KEYS,))
        return new

    def _rollback(self, cur: sqlite3.Cursor) -> None:
        with contextlib.suppress(sqlite3.Error):  # a failed COMMIT may already have rolled back
            cur.execute("ROLLBACK")

    def pending(self, *, limit: int = 100, after_seq: int = 0) -> list[StoredBatch]:
        """The oldest unacknowledged batches with seq > after_seq."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, created_ms, n_readings, readings, gaps FROM batches WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
        return [StoredBatch(*row) for row in rows]

    def ack(self, acked_seq: int) -> int:
        """The server holds every batch <= acked_seq: delete them. Returns how many readings were freed. On a
        full disk the reserve is given up so the delete can go through; it is taken again when there is room."""
        try:
            freed = self._delete_acked(acked_seq)
        except sqlite3.Error as exc:
            if not (_is_disk_full(exc) and self.release_reserve()):
                raise
            freed = self._delete_acked(acked_seq)
            self._checkpoint()
        if not self.reserve_path.exists() and self._room() >= 4 * self.reserve_bytes:
            self.keep_reserve()
        return freed

    def _room(self) -> int:
        try:
            return shutil.disk_usage(self.path.parent).free
        except OSError:
            return 0

    def _delete_acked(self, acked_seq: int) -> int:
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
                self._rollback(cur)
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
    async def append_async(
        self, readings: Sequence[Reading], *, now_ms: int, past_bound: bool = False, gaps: Sequence[EdgeGap] = (),
        held: Sequence[Reading] = (),
    ) -> int | None:
        seq = await asyncio.to_thread(self.append, readings, now_ms=now_ms, past_bound=past_bound, gaps=gaps,
                                      held=held)
        self._notify()
        return seq

    async def ack_async(self, acked_seq: int) -> int:
        freed = await asyncio.to_thread(self.ack, acked_seq)
        self._notify()
        return freed

    async def wait_changed(self, timeout: float) -> None:
        """Wait until a batch is appended or acknowledged, or `timeout` seconds pass."""
        # asyncio.timeout, never wait_for: on Python 3.11 wait_for loses a cancellation that arrives as the event
        # is set, and a caller looping on a full outbox then never stops (a test hung that way)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self.changed.wait()
        self.changed.clear()

    def _notify(self) -> None:
        self.changed.set()

    def notify_changed(self) -> None:
        """Wake whoever waits in `wait_changed` (the uplink, when what it sent must go again)."""
        self._notify()

    @staticmethod
    def _meta(cur: sqlite3.Cursor, key: str) -> int:
        row = cur.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

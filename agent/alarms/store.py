"""Edge alarm events on disk (SQLite next to the outbox) until the server has acknowledged them."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any


class AlarmStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("CREATE TABLE IF NOT EXISTS events (n INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, "
                         "event TEXT NOT NULL)")

    def add(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO events (id, event) VALUES (?, ?)",
                             (event["id"], json.dumps(event, sort_keys=True)))

    def pending(self, limit: int = 200) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT event FROM events ORDER BY n LIMIT ?", (limit,)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def ack(self, ids: list[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM events WHERE id = ?", [(i,) for i in ids])

    def close(self) -> None:
        with self._lock:
            self._db.close()

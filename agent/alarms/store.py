"""Edge alarm events on disk (SQLite next to the outbox) until the server has acknowledged them."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from exposure.wire import AlarmEvent

log = logging.getLogger(__name__)


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

    def add(self, event: AlarmEvent) -> None:
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO events (id, event) VALUES (?, ?)",
                             (event.id, json.dumps(event.to_json(), sort_keys=True)))

    def pending(self, limit: int = 200) -> list[AlarmEvent]:
        """The oldest events the server has not acknowledged. A row that no longer decodes is logged and left
        on disk (never dropped silently)."""
        with self._lock:
            rows = self._db.execute("SELECT id, event FROM events ORDER BY n LIMIT ?", (limit,)).fetchall()
        events = []
        for event_id, text in rows:
            try:
                events.append(AlarmEvent.from_json(json.loads(text)))
            except ValueError as exc:
                log.error("alarm store %s: event %s cannot be read and is kept: %s", self.path, event_id, exc)
        return events

    def ack(self, ids: Iterable[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM events WHERE id = ?", [(i,) for i in ids])

    def close(self) -> None:
        with self._lock:
            self._db.close()

"""Raw series in InfluxDB (v1 HTTP API: InfluxDB 1.x, and 2.x/3.x through their v1 compatibility API).

SQL stays the durable store that ingest commits to before it acks; this forwarder copies readings to InfluxDB
in batches, oldest first, and keeps its position (the last readings.id written) in SQL. While InfluxDB is down
the position does not move, and everything is written when it is back: nothing is lost. A copy written twice
(a crash between the write and the position update) lands on the same series and timestamp, so InfluxDB keeps
one point.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from influxdb import InfluxDBClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.counters import Counters
from server.series.models import LEVELS, InfluxCursor, ReadingRow, Sensor, energy_to_level

log = logging.getLogger(__name__)

MEASUREMENT = "readings"


@dataclass(frozen=True)
class InfluxTarget:
    host: str
    port: int
    database: str
    username: str | None
    password: str | None
    ssl: bool

    @classmethod
    def from_url(cls, url: str) -> InfluxTarget:
        """`http[s]://[user:pass@]host[:port]/database` (database default: hazmon)."""
        u = urlsplit(url)
        return cls(
            host=u.hostname or "127.0.0.1",
            port=u.port or 8086,
            database=u.path.strip("/") or "hazmon",
            username=unquote(u.username) if u.username else None,
            password=unquote(u.password) if u.password else None,
            ssl=u.scheme == "https",
        )

    def client(self) -> InfluxDBClient:
        return InfluxDBClient(
            host=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            database=self.database,
            ssl=self.ssl,
            verify_ssl=self.ssl,
            timeout=10,
            retries=1,
        )


class InfluxForwarder:
    def __init__(
        self,
        url: str,
        *,
        sessions: sessionmaker[Session],
        counters: Counters,
        clock: Callable[[], int],
        batch_size: int = 5000,
        retry_max_s: float = 30.0,
    ) -> None:
        self.target = InfluxTarget.from_url(url)
        self.sessions = sessions
        self.counters = counters
        self.clock = clock
        self.batch_size = batch_size
        self.retry_max_s = retry_max_s
        self._client: InfluxDBClient | None = None
        self.healthy = False

    def _influx(self) -> InfluxDBClient:
        if self._client is None:
            client = self.target.client()
            client.create_database(self.target.database)  # idempotent
            self._client = client
        return self._client

    def step(self) -> int:
        """Copy the next batch of readings; returns how many were written (0: caught up)."""
        with self.sessions() as session:
            cursor = session.get(InfluxCursor, 1)
            if cursor is None:
                cursor = InfluxCursor(id=1, last_reading_id=0, updated_ms=0)
                session.add(cursor)
            rows = session.execute(
                select(
                    ReadingRow.id,
                    ReadingRow.ts,
                    ReadingRow.value,
                    ReadingRow.quantity,
                    ReadingRow.unit,
                    ReadingRow.flags,
                    ReadingRow.interval_s,
                    Sensor.site,
                    Sensor.name,
                )
                .join(Sensor, Sensor.id == ReadingRow.sensor_id)
                .where(ReadingRow.id > cursor.last_reading_id)
                .order_by(ReadingRow.id)
                .limit(self.batch_size)
            ).all()
            if not rows:
                return 0
            points: list[dict[str, Any]] = []
            for r in rows:
                fields: dict[str, Any] = {"value": r.value, "flags": r.flags}
                if r.interval_s is not None:
                    fields["interval_s"] = r.interval_s
                if r.quantity in LEVELS:
                    fields["energy"] = 10 ** (r.value / 10)
                points.append(
                    {
                        "measurement": MEASUREMENT,
                        "time": r.ts,
                        "fields": fields,
                        "tags": {"site": r.site, "sensor": r.name, "quantity": r.quantity, "unit": r.unit},
                    }
                )
            self._influx().write_points(points, time_precision="ms", batch_size=self.batch_size)
            cursor.last_reading_id = rows[-1].id
            cursor.updated_ms = self.clock()
            session.commit()
        self.counters.add("influx_points_written", len(rows))
        return len(rows)

    async def run(self) -> None:
        delay = 0.5
        while True:
            try:
                written = await asyncio.to_thread(self.step)
                self.healthy = True
                delay = 0.5
                if written == 0:
                    await asyncio.sleep(1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # InfluxDB down or refusing: keep the position, retry with backoff
                self.healthy = False
                self._client = None
                self.counters.add("influx_write_failures")
                log.warning("influx: %s; retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.retry_max_s)

    def trend(self, *, sensor: str, quantity: str, since: int, until: int) -> list[dict[str, Any]]:
        """One-minute mean (energetic for sound levels), min, max and count from InfluxDB."""
        mean = 'mean("energy")' if quantity in LEVELS else 'mean("value")'
        query = (
            f'SELECT {mean} AS "mean", min("value"), max("value"), count("value") FROM "{MEASUREMENT}" '
            f'WHERE "sensor" = $sensor AND "quantity" = $quantity AND time >= {since}ms AND time < {until}ms '
            "GROUP BY time(1m)"
        )
        result = self._influx().query(query, bind_params={"sensor": sensor, "quantity": quantity}, epoch="ms")
        return [
            {
                "minute_ms": p["time"],
                "mean": energy_to_level(p["mean"]) if quantity in LEVELS else p["mean"],
                "min": p["min"],
                "max": p["max"],
                "n": p["count"],
            }
            for p in result.get_points()
            if p["count"]
        ]

"""One-minute rollups, kept on ingest. Additive, so a late reading adds into its minute like any other."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from exposure import Reading
from exposure.wire import is_unreliable
from server.series.models import LEVELS, Rollup1m

MINUTE_MS = 60_000
def add_to_rollups(session: Session, readings: tuple[Reading, ...], sensor_ids: dict[str, int]) -> None:
    acc: dict[tuple[int, str, int], list[float]] = {}
    units: dict[tuple[int, str, int], str] = {}
    for r in readings:
        if is_unreliable(r.flags):
            continue
        key = (sensor_ids[r.sensor], r.quantity, r.ts - r.ts % MINUTE_MS)
        agg = acc.get(key)
        energy = 10 ** (r.value / 10) if r.quantity in LEVELS else 0.0
        if agg is None:
            acc[key] = [1, r.value, r.value, r.value, energy]
            units[key] = r.unit
        else:
            agg[0] += 1
            agg[1] += r.value
            agg[2] = min(agg[2], r.value)
            agg[3] = max(agg[3], r.value)
            agg[4] += energy
    if not acc:
        return
    pg = session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if pg else sqlite.insert
    least, greatest = (func.least, func.greatest) if pg else (func.min, func.max)
    table = Rollup1m.__table__
    stmt = insert(table)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["sensor_id", "quantity", "minute_ms"],
        set_={
            "n": table.c.n + ex.n,
            "value_sum": table.c.value_sum + ex.value_sum,
            "value_min": least(table.c.value_min, ex.value_min),
            "value_max": greatest(table.c.value_max, ex.value_max),
            "energy_sum": table.c.energy_sum + ex.energy_sum,
        },
    )
    session.execute(
        stmt,
        [
            {
                "sensor_id": s,
                "quantity": q,
                "minute_ms": m,
                "n": a[0],
                "value_sum": a[1],
                "value_min": a[2],
                "value_max": a[3],
                "energy_sum": a[4] if q in LEVELS else None,
                "unit": units[(s, q, m)],
            }
            for (s, q, m), a in acc.items()
        ],
    )

"""Ingest: store a validated batch durably and exactly once, then answer the agent's ack watermark.

One transaction per batch: the idempotency row (agent, seq), sensors first seen, the readings, the latest
values and the alert transitions are committed together, so an ack always means all of it is stored.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from exposure import Batch, InvalidInput, Reading, decode_batch
from exposure.batch import encode_readings
from exposure.wire import is_unreliable
from server.alerts.engine import evaluate_thresholds
from server.alerts.service import Alerting
from server.counters import Counters
from server.events import Events, ReadingsBackfilled
from server.ingest.ledger import record_batch
from server.ingest.rollups import add_to_rollups
from server.series.models import Agent, EdgeGapRow, IngestedBatch, Latest, ReadingRow, Sensor
from server.series.rows import flags_to_text
from server.series.sensors import SensorNotOwned, refuse_foreign_sensors

#: readings older than this on arrival may change exposure records already computed
BACKFILL_MS = 60_000
#: a reading whose timestamp is older than this when it arrives is flagged `late`
LATE_AFTER_MS = 15 * 60 * 1000


class SeqConflict(Exception):
    """The same (agent, seq) arrived with different readings: the agent reused a sequence number."""


class IngestRefused(Exception):
    """A batch the server will not store: `status` is the HTTP status, `counter` the refusal counter's name,
    `detail` what to tell the agent (a JSON-able value)."""

    def __init__(self, status: int, counter: str, detail: object) -> None:
        super().__init__(str(detail))
        self.status = status
        self.counter = counter
        self.detail = detail


MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class IngestResult:
    acked_seq: int
    duplicate: bool
    readings_stored: int
    alerts_opened: int
    alerts_resolved: int


def mark_late(readings: tuple[Reading, ...], *, now_ms: int, late_after_ms: int) -> tuple[Reading, ...]:
    """Readings that arrive more than `late_after_ms` after their timestamp carry the flag `late`: stored and
    counted like any other, but alerts they raise are marked late instead of paging as live."""
    cutoff = now_ms - late_after_ms
    return tuple(
        dataclasses.replace(r, flags=(*r.flags, "late")) if r.ts < cutoff and "late" not in r.flags else r
        for r in readings
    )


def batch_digest(readings: Iterable[Reading]) -> str:
    return hashlib.sha256(encode_readings(list(readings)).encode()).hexdigest()


def accept_batch(
    session: Session,
    *,
    agent_id: int,
    site: str,
    agent: str,
    body: bytes,
    alerting: Alerting,
    events: Events,
    now_ms: int,
    max_future_ms: int,
    late_after_ms: int,
    counters: Counters,
) -> IngestResult:
    """The whole ingest of one message from an agent (HTTP or MQTT): size, validation, scope, storage, counters.
    Raises IngestRefused; nothing of a refused batch is stored."""
    if len(body) > MAX_BODY:
        counters.add("ingest_rejected_too_large")
        raise IngestRefused(413, "ingest_rejected_too_large", f"a batch is at most {MAX_BODY} bytes")
    try:
        batch = decode_batch(body, now_ms=now_ms, max_future_ms=max_future_ms)
    except InvalidInput as exc:
        counters.add("ingest_rejected_invalid")
        raise IngestRefused(422, "ingest_rejected_invalid", {"path": exc.path, "reason": exc.reason}) from None
    if (batch.site, batch.agent) != (site, agent):
        counters.add("ingest_rejected_scope")
        raise IngestRefused(
            403, "ingest_rejected_scope", f"this agent is {site}/{agent}, not {batch.site}/{batch.agent}"
        )
    try:
        result = ingest_batch(session, agent_id=agent_id, batch=batch, alerting=alerting, events=events,
                              now_ms=now_ms, late_after_ms=late_after_ms)
    except SeqConflict as exc:
        counters.add("ingest_rejected_seq_conflict")
        raise IngestRefused(409, "ingest_rejected_seq_conflict", str(exc)) from None
    except SensorNotOwned as exc:  # nothing of the batch is stored (ingest_batch rolled it back)
        counters.add("ingest_rejected_not_owner")
        raise IngestRefused(403, "ingest_rejected_not_owner", str(exc)) from None
    if result.duplicate:
        counters.add("ingest_duplicate_batches")
    else:
        counters.add("ingest_batches")
        counters.add("ingest_readings", result.readings_stored)
        counters.add("alerts_opened", result.alerts_opened)
    return result


def ingest_batch(
    session: Session, *, agent_id: int, batch: Batch, alerting: Alerting, events: Events, now_ms: int,
    late_after_ms: int = LATE_AFTER_MS,
) -> IngestResult:
    """Store `batch` for the agent in one transaction and commit it. Idempotent on (agent, seq).

    The session may already hold a transaction (authentication read from it); it is committed here.
    """
    digest = batch_digest(batch.readings)
    try:
        result = _store(session, agent_id, batch, digest, alerting, events, now_ms, late_after_ms)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def _store(
    session: Session, agent_id: int, batch: Batch, digest: str, alerting: Alerting, events: Events, now_ms: int,
    late_after_ms: int,
) -> IngestResult:
    # Write first: the UPDATE takes the agent's row lock (PostgreSQL) or the database write lock (SQLite, whose
    # driver opens the transaction only at the first write), so concurrent batches of one agent are serialised
    # and the watermark below is read from the latest committed state.
    session.execute(update(Agent).where(Agent.id == agent_id).values(last_seen_ms=now_ms))
    agent = session.execute(select(Agent).where(Agent.id == agent_id).with_for_update()).scalar_one()
    seen = session.get(IngestedBatch, (agent_id, batch.seq))
    if seen is not None:
        if seen.digest != digest:
            raise SeqConflict(
                f"batch {batch.seq} of agent {agent.site}/{agent.name} was already stored with other readings"
            )
        return IngestResult(agent.acked_seq, True, 0, 0, 0)

    readings = mark_late(batch.readings, now_ms=now_ms, late_after_ms=late_after_ms)
    sensor_ids = _sensor_ids(session, agent, {r.sensor for r in readings}, now_ms)
    if readings:
        session.execute(
            ReadingRow.__table__.insert(),
            [
                {
                    "sensor_id": sensor_ids[r.sensor],
                    "quantity": r.quantity,
                    "value": r.value,
                    "unit": r.unit,
                    "ts": r.ts,
                    "interval_s": r.interval_s,
                    "flags": flags_to_text(r.flags),
                    "agent_id": agent_id,
                    "seq": batch.seq,
                }
                for r in readings
            ],
        )
        _update_latest(session, readings, sensor_ids)
        add_to_rollups(session, readings, sensor_ids)
        _publish_backfill(session, events, readings, sensor_ids, now_ms)
    opened, resolved = evaluate_thresholds(session, readings, sensor_ids, alerting)
    session.add(
        IngestedBatch(
            agent_id=agent_id, seq=batch.seq, received_ms=now_ms, n_readings=len(batch.readings), digest=digest
        )
    )
    for gap in batch.gaps:
        session.add(EdgeGapRow(agent_id=agent_id, seq=batch.seq, sensor=gap.sensor, from_ts=gap.from_ts,
                               to_ts=gap.to_ts, dropped=gap.dropped, reason=gap.reason, received_ms=now_ms))
    session.flush()
    ts = [r.ts for r in batch.readings]
    record_batch(
        session, agent, seq=batch.seq, min_ts=min(ts, default=None), max_ts=max(ts, default=None), now_ms=now_ms,
        first_seq=batch.first_seq,
    )
    return IngestResult(agent.acked_seq, False, len(readings), opened, resolved)


def _publish_backfill(
    session: Session, events: Events, readings: tuple[Reading, ...], sensor_ids: dict[str, int], now_ms: int
) -> None:
    """Readings older than a minute may fall in a shift whose exposure record is already computed: publish them
    (health marks those records stale in this transaction, so a new version is computed and the old one kept)."""
    old = [r for r in readings if r.ts < now_ms - BACKFILL_MS]
    if old:
        events.publish(session, ReadingsBackfilled(
            sensor_ids=tuple(sorted({sensor_ids[r.sensor] for r in old})), since_ms=min(r.ts for r in old),
            until_ms=max(r.ts for r in old), now_ms=now_ms))


def _sensor_ids(session: Session, agent: Agent, names: set[str], now_ms: int) -> dict[str, int]:
    if not names:
        return {}
    refuse_foreign_sensors(session, site=agent.site, agent_id=agent.id, names=names)
    rows = session.execute(
        select(Sensor.name, Sensor.id).where(Sensor.site == agent.site, Sensor.name.in_(names))
    ).all()
    ids = {name: sid for name, sid in rows}
    for name in sorted(names - ids.keys()):
        sensor = Sensor(site=agent.site, name=name, agent_id=agent.id, first_seen_ms=now_ms)
        session.add(sensor)
        session.flush()
        ids[name] = sensor.id
    return ids


def _update_latest(session: Session, readings: tuple[Reading, ...], sensor_ids: dict[str, int]) -> None:
    """The newest value of each (sensor, quantity), and the sensor's usual time between readings: the median step
    within the batch, else the declared integration time, else the step from the value before (unless it is more
    than twice the usual one: an outage is not the usual interval)."""
    newest: dict[tuple[int, str], Reading] = {}
    newest_valid: dict[tuple[int, str], int] = {}
    times: dict[tuple[int, str], list[int]] = {}
    for r in readings:
        key = (sensor_ids[r.sensor], r.quantity)
        times.setdefault(key, []).append(r.ts)
        if key not in newest or r.ts >= newest[key].ts:
            newest[key] = r
        if not is_unreliable(r.flags) and r.ts > newest_valid.get(key, -1):
            newest_valid[key] = r.ts
    steps: dict[tuple[int, str], int | None] = {}
    for key, ts in times.items():
        ts.sort()
        diffs = sorted(b - a for a, b in pairwise(ts) if b > a)
        interval_s = newest[key].interval_s
        steps[key] = diffs[len(diffs) // 2] if diffs else (round(interval_s * 1000) if interval_s else None)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Latest.__table__
    stmt = insert(table)
    step_from_before = stmt.excluded.ts - table.c.ts
    stmt = stmt.on_conflict_do_update(
        index_elements=["sensor_id", "quantity"],
        set_={
            "value": stmt.excluded.value,
            "unit": stmt.excluded.unit,
            "ts": stmt.excluded.ts,
            "flags": stmt.excluded.flags,
            "valid_ts": case(
                (and_(stmt.excluded.valid_ts.is_not(None),
                      or_(table.c.valid_ts.is_(None), stmt.excluded.valid_ts > table.c.valid_ts)),
                 stmt.excluded.valid_ts),
                else_=table.c.valid_ts,
            ),
            "interval_ms": case(
                (stmt.excluded.interval_ms.is_not(None), stmt.excluded.interval_ms),
                (and_(step_from_before > 0, or_(table.c.interval_ms.is_(None),
                                                step_from_before <= 2 * table.c.interval_ms)), step_from_before),
                else_=table.c.interval_ms,
            ),
        },
        where=table.c.ts <= stmt.excluded.ts,
    )
    session.execute(
        stmt,
        [
            {
                "sensor_id": sensor_id,
                "quantity": quantity,
                "value": r.value,
                "unit": r.unit,
                "ts": r.ts,
                "flags": flags_to_text(r.flags),
                "interval_ms": steps[(sensor_id, quantity)],
                "valid_ts": newest_valid.get((sensor_id, quantity)),
            }
            for (sensor_id, quantity), r in newest.items()
        ],
    )

"""Ingest: store a validated batch durably and exactly once, then answer the agent's ack watermark.

One transaction per batch: the idempotency row (agent, seq), sensors first seen, the readings, the latest
values and the alert transitions are committed together, so an ack always means all of it is stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from exposure import Batch, Reading
from exposure.batch import encode_readings
from server.alerting import evaluate_thresholds
from server.db.models import Agent, IngestedBatch, Latest, ReadingRow, Sensor
from server.rules import RuleSet


class SeqConflict(Exception):
    """The same (agent, seq) arrived with different readings: the agent reused a sequence number."""


@dataclass(frozen=True)
class IngestResult:
    acked_seq: int
    duplicate: bool
    readings_stored: int
    alerts_opened: int
    alerts_resolved: int


def batch_digest(readings: Iterable[Reading]) -> str:
    return hashlib.sha256(encode_readings(list(readings)).encode()).hexdigest()


def ingest_batch(session: Session, *, agent_id: int, batch: Batch, rules: RuleSet, now_ms: int) -> IngestResult:
    """Store `batch` for the agent in one transaction and commit it. Idempotent on (agent, seq).

    The session may already hold a transaction (authentication read from it); it is committed here.
    """
    digest = batch_digest(batch.readings)
    try:
        result = _store(session, agent_id, batch, digest, rules, now_ms)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return result


def _store(session: Session, agent_id: int, batch: Batch, digest: str, rules: RuleSet, now_ms: int) -> IngestResult:
    agent = session.execute(select(Agent).where(Agent.id == agent_id).with_for_update()).scalar_one()
    agent.last_seen_ms = now_ms
    seen = session.get(IngestedBatch, (agent_id, batch.seq))
    if seen is not None:
        if seen.digest != digest:
            raise SeqConflict(
                f"batch {batch.seq} of agent {agent.site}/{agent.name} was already stored with other readings"
            )
        return IngestResult(agent.acked_seq, True, 0, 0, 0)

    sensor_ids = _sensor_ids(session, agent, {r.sensor for r in batch.readings}, now_ms)
    if batch.readings:
        session.execute(
            ReadingRow.__table__.insert(),
            [
                {
                    "sensor_id": sensor_ids[r.sensor], "quantity": r.quantity, "value": r.value,
                    "unit": r.unit, "ts": r.ts, "interval_s": r.interval_s, "flags": ",".join(r.flags),
                    "agent_id": agent_id, "seq": batch.seq,
                }
                for r in batch.readings
            ],
        )
        _update_latest(session, batch.readings, sensor_ids)
    opened, resolved = evaluate_thresholds(session, batch.readings, sensor_ids, rules)
    session.add(IngestedBatch(agent_id=agent_id, seq=batch.seq, received_ms=now_ms,
                              n_readings=len(batch.readings), digest=digest))
    session.flush()
    agent.acked_seq = _advance_watermark(session, agent, batch.seq)
    return IngestResult(agent.acked_seq, False, len(batch.readings), opened, resolved)


def _sensor_ids(session: Session, agent: Agent, names: set[str], now_ms: int) -> dict[str, int]:
    if not names:
        return {}
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
    newest: dict[tuple[int, str], Reading] = {}
    for r in readings:
        key = (sensor_ids[r.sensor], r.quantity)
        if key not in newest or r.ts >= newest[key].ts:
            newest[key] = r
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = Latest.__table__
    stmt = insert(table)
    stmt = stmt.on_conflict_do_update(
        index_elements=["sensor_id", "quantity"],
        set_={"value": stmt.excluded.value, "unit": stmt.excluded.unit, "ts": stmt.excluded.ts,
              "flags": stmt.excluded.flags},
        where=table.c.ts <= stmt.excluded.ts,
    )
    session.execute(stmt, [
        {"sensor_id": sensor_id, "quantity": quantity, "value": r.value, "unit": r.unit, "ts": r.ts,
         "flags": ",".join(r.flags)}
        for (sensor_id, quantity), r in newest.items()
    ])


def _advance_watermark(session: Session, agent: Agent, seq: int) -> int:
    """The highest N such that every batch from the agent's first one up to N is stored.

    The first batch ever seen from an agent sets the baseline (earlier seqs were acknowledged by a server
    whose data this one does not hold). A batch beyond a missing one leaves the watermark where it is.
    """
    acked = agent.acked_seq
    if acked == 0:
        acked = seq
    elif seq != acked + 1:
        return acked
    later = session.execute(
        select(IngestedBatch.seq).where(IngestedBatch.agent_id == agent.id, IngestedBatch.seq > acked)
        .order_by(IngestedBatch.seq)
    ).scalars()
    for s in later:
        if s != acked + 1:
            break
        acked = s
    return acked

"""The gap ledger and the ack watermark, per agent.

The watermark is the highest N such that every batch from the agent's first one up to N is stored; it is what
the server acknowledges. The ledger lists the seqs that are missing although later ones arrived, each with the
time range it leaves uncovered, and shrinks or clears a gap when its batches arrive. Edge gaps are the other
kind: readings the agent itself could not keep (disk full), reported with a reason; they never clear.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.series.models import Agent, AgentStatus, DeliveryGap, EdgeGapRow, IngestedBatch


def agent_status_row(session: Session, agent_id: int) -> AgentStatus:
    """The agent's status row, created on first use. A batch and a status report of a new agent may arrive at
    once: the row is inserted with ON CONFLICT DO NOTHING, so the second one uses the first one's row instead of
    failing on the unique key."""
    row = session.get(AgentStatus, agent_id)
    if row is None:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(AgentStatus).values(
            agent_id=agent_id, max_seq=0, state="unknown", version="", outbox_full=False, disk_full=False,
        ).on_conflict_do_nothing(index_elements=["agent_id"]))
        row = session.get(AgentStatus, agent_id)
        assert row is not None
    return row


def record_batch(
    session: Session, agent: Agent, *, seq: int, min_ts: int | None, max_ts: int | None, now_ms: int,
    first_seq: int | None = None,
) -> int:
    """Note that batch `seq` is stored (in the caller's transaction); return the new ack watermark.

    `first_seq` is the oldest batch the agent still holds (every earlier one was acknowledged by a server). On
    first contact it is the baseline: seqs from it up to `seq` that have not arrived are a gap, not acknowledged.
    Without it (an older agent), the first batch seen is the baseline."""
    status = agent_status_row(session, agent.id)
    first_contact = status.max_seq == 0 and agent.acked_seq == 0
    if first_contact:
        baseline = seq - 1 if first_seq is None else first_seq - 1
        agent.acked_seq = baseline
        if seq > baseline + 1:
            session.add(DeliveryGap(agent_id=agent.id, first_seq=baseline + 1, last_seq=seq - 1, after_ts=None,
                                    before_ts=min_ts, detected_ms=now_ms))
    elif seq > status.max_seq + 1:
        session.add(
            DeliveryGap(
                agent_id=agent.id,
                first_seq=status.max_seq + 1,
                last_seq=seq - 1,
                after_ts=status.max_seq_last_ts,
                before_ts=min_ts,
                detected_ms=now_ms,
            )
        )
    elif seq < status.max_seq:
        _fill(session, agent.id, seq, min_ts, max_ts)
    if seq > status.max_seq:
        status.max_seq = seq
        status.max_seq_last_ts = max_ts
    return _advance_watermark(session, agent, seq)


def _fill(session: Session, agent_id: int, seq: int, min_ts: int | None, max_ts: int | None) -> None:
    gap = session.execute(
        select(DeliveryGap).where(
            DeliveryGap.agent_id == agent_id, DeliveryGap.first_seq <= seq, DeliveryGap.last_seq >= seq
        )
    ).scalar_one_or_none()
    if gap is None:
        return
    if gap.first_seq == gap.last_seq:
        session.delete(gap)
    elif seq == gap.first_seq:
        gap.first_seq = seq + 1
        gap.after_ts = max_ts
    elif seq == gap.last_seq:
        gap.last_seq = seq - 1
        gap.before_ts = min_ts
    else:
        session.add(
            DeliveryGap(
                agent_id=agent_id,
                first_seq=seq + 1,
                last_seq=gap.last_seq,
                after_ts=max_ts,
                before_ts=gap.before_ts,
                detected_ms=gap.detected_ms,
            )
        )
        gap.last_seq = seq - 1
        gap.before_ts = min_ts


def _advance_watermark(session: Session, agent: Agent, seq: int) -> int:
    """Every batch up to the watermark is stored; a batch beyond a missing one leaves the watermark where it is."""
    acked = agent.acked_seq
    if seq != acked + 1:
        return acked
    later = session.execute(
        select(IngestedBatch.seq)
        .where(IngestedBatch.agent_id == agent.id, IngestedBatch.seq > acked)
        .order_by(IngestedBatch.seq)
    ).scalars()
    for s in later:
        if s != acked + 1:
            break
        acked = s
    agent.acked_seq = acked
    return acked


def gaps(session: Session, agent_id: int | None = None) -> list[DeliveryGap]:
    q = select(DeliveryGap).order_by(DeliveryGap.agent_id, DeliveryGap.first_seq)
    if agent_id is not None:
        q = q.where(DeliveryGap.agent_id == agent_id)
    return list(session.execute(q).scalars())


def edge_gaps(session: Session, agent_id: int | None = None) -> list[EdgeGapRow]:
    """Readings agents reported they could not keep, oldest first."""
    q = select(EdgeGapRow).order_by(EdgeGapRow.agent_id, EdgeGapRow.from_ts, EdgeGapRow.id)
    if agent_id is not None:
        q = q.where(EdgeGapRow.agent_id == agent_id)
    return list(session.execute(q).scalars())

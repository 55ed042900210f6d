"""A new agent's first batch and first status report may arrive at once, in two transactions: both use one
agent_status row, neither fails on its unique key (it did, as a 500, under load)."""

from __future__ import annotations

import threading

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from server.ingest.ledger import agent_status_row
from server.series.models import Agent, AgentStatus


def test_two_transactions_creating_the_status_row_of_a_new_agent_share_it(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    try:
        with Session(engine) as s:
            agent = Agent(site="race", name="gw-new", token_hash="x-race", created_ms=0, acked_seq=0)
            s.add(agent)
            s.commit()
            agent_id = agent.id
        first_has_row = threading.Event()
        errors: list[BaseException] = []

        def first() -> None:
            try:
                with Session(engine) as s:
                    agent_status_row(s, agent_id).max_seq = 5
                    s.flush()
                    first_has_row.set()
                    threading.Event().wait(0.5)  # the second transaction runs meanwhile
                    s.commit()
            except BaseException as exc:
                errors.append(exc)
                first_has_row.set()

        t = threading.Thread(target=first)
        t.start()
        first_has_row.wait(10)
        with Session(engine) as s:
            row = agent_status_row(s, agent_id)  # waits for the first transaction, then uses its row
            row.state = "online"
            s.commit()
        t.join(10)
        assert errors == []
        with Session(engine) as s:
            assert s.execute(select(func.count()).select_from(AgentStatus)
                             .where(AgentStatus.agent_id == agent_id)).scalar_one() == 1
            row = s.get(AgentStatus, agent_id)
            assert row is not None and row.max_seq == 5 and row.state == "online"
    finally:
        engine.dispose()

"""One bad worker-shift never stops the others: it is recorded with its reason, shown (API, standing warning),
retried, and cleared once it computes. Readings an agent dropped show in the records' gaps with the agent's
reason."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import delete, select

from server.series.models import Agent, EdgeGapRow, ReadingRow

from .conftest import Env, at


def _plant_with_a_miscommissioned_sensor(env: Env) -> tuple[int, int, int]:
    """Zone A: a-co reads 10 ppm; zone C: c-co reports co in %LEL, which no limit in ppm can use. W1 works in
    A, W2 in C, the same day shift. Returns (W1, W2, c-co's sensor id)."""
    a, c = env.sensor("a-co"), env.sensor("c-co")
    env.steady(a, "co", "ppm", 10.0, at(5), at(17))
    env.steady(c, "co", "%LEL", 3.0, at(5), at(17))
    env.zone("A", ["a-co"], ["co"])
    env.zone("C", ["c-co"], ["co"])
    w1, w2 = env.worker("W1"), env.worker("W2")
    report = env.roster("employee_no,date,shift,zone,post,start,end\n"
                        "W1,2025-03-03,day,A,,07:00,15:00\n"
                        "W2,2025-03-03,day,C,,07:00,15:00\n")
    assert report["imported"] == 2, report
    return w1, w2, c


def test_a_failing_shift_is_recorded_shown_retried_and_never_stops_the_others(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hazmon.health")
    w1, w2, c = _plant_with_a_miscommissioned_sensor(env)

    assert env.compute() == {"shifts": 1, "records": 1, "follow_ups": 0, "failed": 1}
    (rec,) = env.ok("GET", f"/workers/{w1}/exposure-records")
    assert rec["twa"] == pytest.approx(10.0)
    assert env.ok("GET", f"/workers/{w2}/exposure-records") == []

    (failure,) = env.ok("GET", "/exposure-records/failures")
    assert failure["worker_id"] == w2 and failure["shift_start_ms"] == at(7) and failure["shift_end_ms"] == at(15)
    assert "%LEL cannot be evaluated in ppm" in failure["reason"]
    assert failure["failed_ms"] == env.clock.now
    assert env.ok("GET", "/exposure-records/failures", role="safety_manager") == [failure]
    assert env.call("worker", "GET", "/exposure-records/failures").status_code == 403
    assert env.call("anonymous", "GET", "/exposure-records/failures").status_code == 401
    warnings = env.ok("GET", "/status", role="safety_manager")["warnings"]
    assert any("1 worker-shift(s) have no exposure records" in w for w in warnings), warnings

    # retried on every run; logged once per reason, with the worker's id and never a name
    assert env.compute()["failed"] == 1
    logged = [r.getMessage() for r in caplog.records if "not computed" in r.getMessage()]
    assert len(logged) == 1 and f"worker {w2}" in logged[0] and "Test Worker" not in logged[0]

    # the site fixes the sensor's unit: the shift computes, the failure and the warning clear
    with env.session() as s:
        s.execute(delete(ReadingRow).where(ReadingRow.sensor_id == c))
        s.commit()
    env.steady(c, "co", "ppm", 12.0, at(5), at(17))
    assert env.compute() == {"shifts": 1, "records": 1, "follow_ups": 0, "failed": 0}
    (rec2,) = env.ok("GET", f"/workers/{w2}/exposure-records")
    assert rec2["twa"] == pytest.approx(12.0)
    assert env.ok("GET", "/exposure-records/failures") == []
    assert not any("worker-shift" in w for w in env.ok("GET", "/status", role="safety_manager")["warnings"])


def test_readings_an_agent_dropped_are_gaps_with_the_agents_reason(env: Env) -> None:
    """a-co has no readings 12:00-12:30 because its agent's disk was full and it said so (an edge gap of 30
    readings, disk_full): the record's gap there says disk_full and 30, not merely no_data."""
    a = env.sensor("a-co")
    env.steady(a, "co", "ppm", 10.0, at(5), at(17), skip=(at(12), at(12.5)))
    with env.session() as s:
        agent_id = s.execute(select(Agent.id).where(Agent.site == "plant-a", Agent.name == "gw-1")).scalar_one()
        s.add(EdgeGapRow(agent_id=agent_id, seq=9, sensor="a-co", from_ts=at(12), to_ts=at(12.5) - 60_000,
                         dropped=30, reason="disk_full", received_ms=at(13)))
        s.commit()
    env.zone("A", ["a-co"], ["co"])
    wid = env.worker("W1")
    env.roster("employee_no,date,shift,zone,post,start,end\nW1,2025-03-03,day,A,,07:00,15:00\n")
    env.compute()
    (rec,) = env.ok("GET", f"/workers/{wid}/exposure-records")
    assert rec["coverage"] == pytest.approx(7.5 / 8, abs=1e-3)
    dropped = [g for g in rec["gaps"] if g["reason"] == "disk_full"]
    assert dropped == [{"start_ms": at(12), "end_ms": at(12.5) - 60_000, "reason": "disk_full", "dropped": 30}]
    rest = [g for g in rec["gaps"] if g["reason"] == "no_data"]
    assert rest == [{"start_ms": at(12.5) - 60_000, "end_ms": at(12.5), "reason": "no_data", "dropped": None}]

"""Rosters from CSV with a row-by-row report; alerts linked to the workers present with their evidence; the
surveillance due list from per-jurisdiction interval rules."""

from __future__ import annotations

import datetime as dt

import pytest

from server.accounts.audit import audit
from server.alerts.models import Alert
from server.health.linkage import workers_present
from server.health.surveillance import add_months

from .conftest import Env, at, two_zone_plant

ROSTER = ("employee_no,date,shift,zone,post,start,end\n"
          "R1,2025-03-03,day,A,,07:00,11:00\n"
          "NOPE,2025-03-03,day,A,,,\n"
          "R1,2025-03-32,day,A,,,\n"
          "R1,2025-03-04,night,A,,,\n"
          "R1,2025-03-03,day,Q,,,\n"
          "R1,2025-03-03,day,A,,10:00,12:00\n"
          "R1,2025-03-03,day,A,,14:00,16:00\n"
          "R1,2025-03-03,day,A,,11:00,15:00\n")


def test_roster_import_reports_every_bad_row_and_is_atomic_by_default(env: Env) -> None:
    """Atomic mode imports nothing when a row is wrong; each wrong row is named by line and field."""
    env.zone("A", [], ["co"])
    env.worker("R1")
    report = env.roster(ROSTER)
    assert report["imported"] == 0 and report["rows"] == 8
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (3, "employee_no"), (4, "date"), (5, "shift"), (6, "zone"), (7, "start"), (8, "end")]
    assert env.ok("GET", "/assignments") == []
    partial = env.roster(ROSTER, mode="partial")
    assert partial["imported"] == 2 and len(partial["errors"]) == 6
    got = [(a["start_ms"], a["end_ms"], a["shift_start_ms"]) for a in env.ok("GET", "/assignments")]
    assert got == [(at(7), at(11), at(7)), (at(11), at(15), at(7))]


def test_an_alert_in_a_zone_links_the_workers_present_with_evidence(env: Env) -> None:
    """An alert on zone A's sensor at 08:00 (from before links were stored: linked at read time) is in W1's file
    (in A then) with the series and its history once per transition; a worker in zone B then is not linked."""
    wid = two_zone_plant(env)
    other = env.worker("W2")
    env.ok("POST", "/assignments", json={"worker_id": other, "zone": "B", "start_ms": at(7), "end_ms": at(15)})
    with env.session() as s:
        al = Alert(rule_id="co-high", sensor_id=1, quantity="co", severity="warning", state="resolved",
                         message="co high", threshold=9.0, unit="ppm", opened_ts=at(8), trigger_value=10.0,
                         worst_value=10.0, last_ts=at(8.1), resolved_ts=at(8.2), acknowledged_by="safety_manager",
                         acknowledged_ms=at(8.05), ack_note="fans on")
        s.add(al)
        s.flush()
        for ts, action in ((at(8), "alert_opened"), (at(8.05), "alert_acknowledged"), (at(8.2), "alert_resolved")):
            audit(s, ts_ms=ts, actor="system", action=action, target=f"alert:{al.id}")
        s.commit()
        assert workers_present(s, al.id) == [(wid, "zone")]
    (ev,) = env.ok("GET", f"/workers/{wid}/events")
    assert ev["zone"] == "A" and ev["via"] == "zone" and ev["present_from_ms"] == at(8) and ev["stored"] is False
    assert [h["action"] for h in ev["history"]] == ["opened", "acknowledged", "resolved"]
    assert len(ev["series"]) == 33 and all(v == 10.0 for _, v, _ in ev["series"])  # 07:50..08:22, 1 per min
    assert env.ok("GET", f"/workers/{other}/events") == []
    assert env.ok("GET", f"/workers/{wid}/file")["events"][0]["alert_id"] == ev["alert_id"]


@pytest.mark.slow
def test_noise_surveillance_interval_follows_the_exposure_level(env: Env) -> None:
    """GBZ 188 noise: LEX,8h 82 dB(A) gives a periodic exam 24 months after the last; 88 gives 12 months."""
    n = env.sensor("press-noise")
    env.readings(n, "laeq", "dB(A)", [(t, 82.0) for t in range(at(7) + 1000, at(15) + 1000, 1000)], interval_s=1.0)
    env.zone("P", ["press-noise"], ["noise"])
    wid = env.worker("N1")
    env.roster("employee_no,date,shift,zone,post,start,end\nN1,2025-03-03,day,P,,,\n")
    env.compute()
    last = dt.date(2023, 4, 1)
    env.ok("POST", f"/workers/{wid}/exams", json={"exam_type": "pre_placement", "status": "done",
                                                 "exam_date": last.isoformat()})
    due = env.ok("GET", "/surveillance/due?horizon_days=30")
    assert [(d["exam_type"], d["hazard"], d["due_date"], d["status"]) for d in due] == [
        ("periodic", "noise", add_months(last, 24).isoformat(), "due")]
    assert "gbz188-noise-80" in due[0]["basis"]
    env.ok("POST", f"/workers/{wid}/exams", json={"exam_type": "periodic", "hazard": "noise", "status": "done",
                                                 "exam_date": "2024-06-01"})
    env.readings(n, "laeq", "dB(A)", [(t, 88.0) for t in range(at(7, dt.date(2025, 3, 4)) + 1000,
                                                                 at(15, dt.date(2025, 3, 4)) + 1000, 1000)],
                 interval_s=1.0)
    env.roster("employee_no,date,shift,zone,post,start,end\nN1,2025-03-04,day,P,,,\n")
    env.compute()
    due = env.ok("GET", "/surveillance/due?horizon_days=3650")
    periodic = [d for d in due if d["exam_type"] == "periodic"]
    assert periodic[0]["due_date"] == "2025-06-01" and "gbz188-noise-85" in periodic[0]["basis"]
    assert any(d["exam_type"] == "follow_up" for d in due)

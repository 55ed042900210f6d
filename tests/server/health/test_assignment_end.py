"""Ending an assignment early and a personal sensor handed back: only shorter, never longer or before the
start; the roles that write rosters only; audited."""

from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import AuditEntry

from .conftest import Env, at


def _assignment(env: Env) -> dict:
    env.zone("A", [], ["co"])
    wid = env.worker("E1")
    return env.ok("POST", "/assignments", json={"worker_id": wid, "zone": "A", "start_ms": at(7), "end_ms": at(15)})


def test_an_assignment_ends_earlier_but_never_later_or_before_its_start(env: Env) -> None:
    """end_ms inside (start, stored end] is kept; after the stored end or at the start is a 422 naming why."""
    a = _assignment(env)
    assert env.call("record_keeper", "POST", f"/assignments/{a['id']}/end", json={"end_ms": at(16)}).status_code == 422
    r = env.call("record_keeper", "POST", f"/assignments/{a['id']}/end", json={"end_ms": at(7)})
    assert r.status_code == 422 and "after the assignment's start" in r.json()["detail"]
    out = env.ok("POST", f"/assignments/{a['id']}/end", json={"end_ms": at(11)})
    assert (out["start_ms"], out["end_ms"], out["shift_end_ms"]) == (at(7), at(11), at(15))
    assert env.call("record_keeper", "POST", "/assignments/999/end", json={"end_ms": at(9)}).status_code == 404


def test_ending_an_assignment_needs_roster_write_and_is_audited(env: Env) -> None:
    """facilities, auditor and worker are refused; the record-keeper's change is in the audit log."""
    a = _assignment(env)
    for role in ("facilities", "auditor", "worker"):
        assert env.call(role, "POST", f"/assignments/{a['id']}/end", json={"end_ms": at(9)}).status_code == 403
    env.ok("POST", f"/assignments/{a['id']}/end", json={"end_ms": at(9)})
    with env.session() as s:
        details = s.execute(select(AuditEntry.detail).where(AuditEntry.action == "health.roster.write")).scalars()
        assert f"assignment={a['id']} end" in list(details)


def test_a_personal_sensor_is_handed_back_before_its_stored_end(env: Env) -> None:
    """The return shortens the hand-out; a return after the stored end is refused."""
    wid = env.worker("E2")
    env.sensor("badge-7")
    p = env.ok("POST", "/personal-sensors", json={"worker_id": wid, "sensor": "badge-7", "start_ms": at(7),
                                                   "end_ms": at(15)})
    assert env.call("record_keeper", "POST", f"/personal-sensors/{p['id']}/return",
                    json={"end_ms": at(15.5)}).status_code == 422
    out = env.ok("POST", f"/personal-sensors/{p['id']}/return", json={"end_ms": at(12)})
    assert (out["start_ms"], out["end_ms"], out["sensor"]) == (at(7), at(12), "plant-a/badge-7")

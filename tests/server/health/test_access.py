"""Access: the role matrix over every health-file endpoint (401 without a token, 403 for a role without the
right), a worker reads only their own file, every access is audited without personal data, deletion is gated."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from server.accounts.access import RULES, allowed
from server.accounts.models import AuditEntry
from server.settings import YEAR_MS

from .conftest import Env, make_env, two_zone_plant

ALL = ("anonymous", "admin", "record_keeper", "safety_manager", "facilities", "auditor", "worker", "worker2")


def _endpoints(wid: int, exam_id: int, att_id: int) -> list[tuple[str, str, str, dict]]:
    """(action, method, path, request kwargs); `worker` owns worker `wid`, `worker2` owns nothing."""
    return [
        ("workers.list", "GET", "/workers", {}),
        ("worker.write", "POST", "/workers", {"json": {"employee_no": "X9", "name": "x"}}),
        ("worker.read", "GET", f"/workers/{wid}", {}),
        ("worker.write", "PATCH", f"/workers/{wid}", {"json": {"department": "d2"}}),
        ("exposure.read", "GET", f"/workers/{wid}/file", {}),
        ("exposure.read", "GET", f"/workers/{wid}/exposure-records", {}),
        ("exposure.write", "POST", "/exposure-records/compute", {}),
        ("exams.read", "GET", f"/workers/{wid}/exams", {}),
        ("exams.read", "GET", f"/exams/{exam_id}/attachments/{att_id}", {}),
        ("events.read", "GET", f"/workers/{wid}/events", {}),
        ("exams.write", "POST", f"/workers/{wid}/exams", {"json": {"exam_type": "periodic", "hazard": "co"}}),
        ("exams.write", "PATCH", f"/exams/{exam_id}", {"json": {"examiner": "dr b"}}),
        ("exams.write", "POST", f"/exams/{exam_id}/attachments?filename=a.txt", {"content": b"x"}),
        ("exposure.read", "GET", f"/workers/{wid}/export.json", {}),
        ("exposure.read", "GET", f"/workers/{wid}/export.csv", {}),
        ("exposure.read", "GET", f"/workers/{wid}/export.pdf", {}),
        ("zone_report.read", "GET", "/zones/A/report.pdf?month=2025-03", {}),
        ("surveillance.read", "GET", "/surveillance/due", {}),
        ("file.delete", "POST", f"/health-files/{wid}/delete", {"json": {"reason": "retention test ok"}}),
        ("org.read", "GET", "/zones", {}),
        ("org.write", "POST", "/zones", {"json": {"code": "Z9", "name": "z"}}),
        ("roster.read", "GET", "/assignments", {}),
        ("roster.write", "POST", "/rosters/import", {"content": b"employee_no,date,shift,zone\n"}),
        ("roster.read", "GET", "/personal-sensors", {}),
        ("exposure.read", "GET", f"/workers/{wid}/samples", {}),
        ("samples.write", "POST", f"/workers/{wid}/samples", {"json": {
            "sample_id": "R-1", "substance": "co", "start_ms": 1_741_000_000_000, "end_ms": 1_741_028_800_000,
            "result": 1.0, "unit": "ppm"}}),
        ("samples.write", "POST", "/samples/import", {"content": b"sample_id,employee_no,substance,start,end,unit\n"}),
        ("segs.read", "GET", "/segs", {}),
        ("segs.read", "GET", "/segs/1/assessment?hazard=co", {}),
        ("segs.write", "POST", "/segs", {"json": {"name": "seg", "hazards": ["co"], "zones": ["A"]}}),
    ]


@pytest.mark.slow
def test_role_matrix_over_every_health_file_endpoint(env: Env) -> None:
    """Each endpoint: 401 without a token, 403 where the role lacks the right, never 401/403 where it has it."""
    wid = two_zone_plant(env)
    env.compute()
    exam_id = env.ok("POST", f"/workers/{wid}/exams", json={"exam_type": "periodic", "hazard": "co"})["id"]
    att_id = env.ok("POST", f"/exams/{exam_id}/attachments?filename=audiogram.pdf", content=b"%PDF-")["id"]
    checked = set()
    for action, method, path, kw in _endpoints(wid, exam_id, att_id):
        checked.add(action)
        for role in ALL:
            r = env.call(role, method, path, **kw)
            if role == "anonymous":
                expected_ok = None
            else:
                real = "worker" if role == "worker2" else role
                expected_ok = allowed(real, action, own=role == "worker")  # type: ignore[arg-type]
            where = f"{role} {method} {path}: {r.status_code} {r.text[:120]}"
            if expected_ok is None:
                assert r.status_code == 401, where
            elif expected_ok:
                assert r.status_code not in (401, 403), where
            else:
                assert r.status_code == 403, where
    assert checked == set(RULES)


def test_safety_manager_reads_exposure_but_never_exam_results(env: Env) -> None:
    """The file shows exposure records to a safety manager and withholds exams; the exams endpoint is 403."""
    wid = two_zone_plant(env)
    env.compute()
    env.ok("POST", f"/workers/{wid}/exams", json={"exam_type": "periodic", "status": "done",
                                                 "exam_date": "2025-03-01", "outcome": "fit",
                                                 "findings": "SECRET-FINDING"})
    f = env.ok("GET", f"/workers/{wid}/file", role="safety_manager")
    assert f["exposure_records"] and f["exams"] is None and f["exams_withheld"] is True
    assert "SECRET-FINDING" not in env.call("safety_manager", "GET", f"/workers/{wid}/export.json").text
    assert env.call("safety_manager", "GET", f"/workers/{wid}/exams").status_code == 403
    assert env.call("safety_manager", "GET", f"/workers/{wid}/export.csv?part=exams").status_code == 403
    assert "SECRET-FINDING" in env.call("record_keeper", "GET", f"/workers/{wid}/export.json").text


def test_a_worker_reads_only_their_own_file(env: Env) -> None:
    """The worker linked by user_id reads their file and exams; another worker account gets 403."""
    wid = two_zone_plant(env)
    env.compute()
    assert env.call("worker", "GET", f"/workers/{wid}/file").status_code == 200
    assert env.call("worker", "GET", f"/workers/{wid}/exams").status_code == 200
    assert env.call("worker2", "GET", f"/workers/{wid}/file").status_code == 403
    assert env.call("worker", "GET", "/workers").status_code == 403
    assert env.call("worker", "GET", "/workers/999/file").status_code == 403


def test_every_access_is_audited_without_personal_data(env: Env) -> None:
    """Reads, writes and refusals each leave an audit entry naming actor, action and record ids only."""
    wid = two_zone_plant(env)
    env.compute()
    env.ok("POST", f"/workers/{wid}/exams", json={"exam_type": "periodic", "status": "done",
                                                 "exam_date": "2025-03-01", "findings": "mild loss"})
    with env.session() as s:
        before = s.execute(select(AuditEntry.id)).scalars().all()
    calls = [("auditor", f"/workers/{wid}/file"), ("worker", f"/workers/{wid}/exposure-records"),
             ("record_keeper", f"/workers/{wid}/exams"), ("record_keeper", f"/workers/{wid}/export.pdf"),
             ("safety_manager", f"/workers/{wid}/exams"), ("admin", f"/workers/{wid}")]
    for role, path in calls:
        env.call(role, "GET", path)
    with env.session() as s:
        new = s.execute(select(AuditEntry).where(AuditEntry.id.not_in(before)).order_by(AuditEntry.id)).scalars().all()
        everything = s.execute(select(AuditEntry)).scalars().all()
    got = [(e.actor, e.action, e.target) for e in new]
    assert got == [
        ("user:auditor", "health.file.read", f"worker:{wid}"),
        ("user:worker", "health.exposure.read", f"worker:{wid}"),
        ("user:record_keeper", "health.exams.read", f"worker:{wid}"),
        ("user:record_keeper", "health.file.export", f"worker:{wid}"),
        ("user:safety_manager", "health.exams.read.denied", f"worker:{wid}"),
        ("user:admin", "health.worker.read", f"worker:{wid}"),
    ]
    text = " ".join(f"{e.target} {e.detail}" for e in everything)
    assert "Test Worker" not in text and "mild loss" not in text


@pytest.mark.parametrize("role", ["record_keeper"])
def test_deletion_only_after_retention_through_the_audited_procedure(env: Env, role: str) -> None:
    """Deletion: 403 for a safety manager, 409 while the worker is employed or within retention, then done."""
    wid = two_zone_plant(env)
    env.compute()
    reason = {"reason": "retention period over, approved by committee"}
    assert env.call("safety_manager", "POST", f"/health-files/{wid}/delete", json=reason).status_code == 403
    assert env.call(role, "POST", f"/health-files/{wid}/delete", json=reason).status_code == 409
    env.ok("PATCH", f"/workers/{wid}", json={"status": "left", "leave_date": "2025-03-31"})
    r = env.call(role, "POST", f"/health-files/{wid}/delete", json=reason)
    assert r.status_code == 409 and "2055" in r.text
    env.clock.now += int(31 * YEAR_MS)
    out = env.ok("POST", f"/health-files/{wid}/delete", role=role, json=reason)
    assert out["removed"]["exposure_records"] == 1 and out["removed"]["workers"] == 1
    assert env.call("admin", "GET", f"/workers/{wid}").status_code == 404
    with env.session() as s:
        actions = s.execute(select(AuditEntry.action).where(AuditEntry.target == f"worker:{wid}")).scalars().all()
    assert "health.file.delete" in actions and "health.file.delete.refused" in actions


@pytest.mark.parametrize("policy", ["full", "outcome", "schedule"])
def test_what_a_worker_sees_of_their_own_exams_follows_the_sites_policy(database_url: str, tmp_path: Path,
                                                                          policy: str) -> None:
    """HAZMON_HEALTH_WORKER_EXAM_RESULTS: `full` shows the worker everything of their own exams; `outcome` withholds
    the findings and the attachments (a download is refused and audited); `schedule` leaves only types and dates.
    Whatever is withheld is named (`withheld`), the same in the file, the exams list and the exports; the
    record-keeper always sees it all."""
    with make_env(database_url, tmp_path, health_worker_exam_results=policy) as env:
        wid = two_zone_plant(env)
        exam = env.ok("POST", f"/workers/{wid}/exams", json={
            "exam_type": "periodic", "status": "done", "exam_date": "2025-03-01", "outcome": "fit",
            "findings": "PRIVATE-FINDING", "examiner": "dr wang"})
        att = env.ok("POST", f"/exams/{exam['id']}/attachments?filename=audiogram.pdf", content=b"%PDF-1.4 x")
        withheld = {"full": [], "outcome": ["findings", "attachments"],
                    "schedule": ["outcome", "findings", "examiner", "attachments"]}[policy]
        [listed] = env.call("worker", "GET", f"/workers/{wid}/exams").json()
        [in_file] = env.call("worker", "GET", f"/workers/{wid}/file").json()["exams"]
        [exported] = env.call("worker", "GET", f"/workers/{wid}/export.json").json()["exams"]
        for seen in (listed, in_file, exported):
            assert seen["withheld"] == withheld
            assert seen["exam_date"] == "2025-03-01" and seen["exam_type"] == "periodic"
            assert (seen["findings"] == "PRIVATE-FINDING") is (policy == "full")
            assert (seen["outcome"] == "fit") is (policy != "schedule")
            assert (seen["examiner"] == "dr wang") is (policy != "schedule")
            assert len(seen["attachments"]) == (1 if policy == "full" else 0)
        assert ("PRIVATE-FINDING" in env.call("worker", "GET", f"/workers/{wid}/export.csv?part=exams").text) is (
            policy == "full")
        download = env.call("worker", "GET", f"/exams/{exam['id']}/attachments/{att['id']}")
        assert download.status_code == (200 if policy == "full" else 403)
        [everything] = env.call("record_keeper", "GET", f"/workers/{wid}/exams").json()
        assert everything["findings"] == "PRIVATE-FINDING" and everything["withheld"] == []
        assert len(everything["attachments"]) == 1
        with env.session() as s:
            denied = s.execute(select(AuditEntry).where(AuditEntry.action == "health.exams.read.denied")).scalars()
            assert [e.target for e in denied] == ([] if policy == "full" else [f"exam:{exam['id']}"])

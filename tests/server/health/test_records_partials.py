"""The records pages' parts (server/web/records_pages.py) on both databases: the worker search by name in any script,
department, zone and status; a worker's file part for each role (a safety manager never gets an exam result; a
worker only their own file, record and `/me`); every view audited as the API's are."""

from __future__ import annotations

from sqlalchemy import select

from exposure import Reading
from server.accounts.models import AuditEntry
from server.alerts.engine import evaluate_thresholds
from server.series.models import Sensor

from .conftest import Env, at, two_zone_plant

SECRET = "SECRET-FINDING-2291"


def _part(env: Env, role: str, path: str, **params: str) -> tuple[int, str]:
    r = env.client.get(path, params=params, headers=env.h(role))
    return r.status_code, r.text


def _audit(env: Env, actor: str) -> list[tuple[str, str]]:
    with env.session() as s:
        return list(s.execute(select(AuditEntry.action, AuditEntry.target).where(AuditEntry.actor == actor)
                              .order_by(AuditEntry.id)).all())


def test_the_worker_search_finds_by_name_in_any_script_department_zone_and_status(env: Env) -> None:
    two_zone_plant(env)  # W1, in zones A and B
    env.worker("CN-7", name="王小明")
    env.ok("POST", "/workers", json={"employee_no": "L-1", "name": "Léa Müller", "department": "Paint shop",
                                     "status": "left"})

    def found(**params: str) -> set[str]:
        status, html = _part(env, "record_keeper", "/web/partials/workers", **params)
        assert status == 200, html
        return {no for no in ("W1", "CN-7", "L-1") if f'data-employee="{no}"' in html}

    assert found() == {"W1", "CN-7", "L-1"}
    assert found(q="小明") == {"CN-7"} and found(q="王小明") == {"CN-7"}
    assert found(q="léa") == {"L-1"} and found(q="cn-7") == {"CN-7"}
    assert found(department="paint") == {"L-1"} and found(zone="B") == {"W1"} and found(status="left") == {"L-1"}
    assert found(q="100%_") == set()  # LIKE's wildcards are text here
    assert ("health.workers.list", "workers") in _audit(env, "user:record_keeper")
    for role in ("worker", "facilities"):
        assert _part(env, role, "/web/partials/workers")[0] == 403


def test_a_safety_manager_gets_the_file_without_any_exam_result(env: Env) -> None:
    wid = two_zone_plant(env)
    env.compute()
    env.ok("POST", f"/workers/{wid}/exams", json={"exam_type": "periodic", "status": "done",
                                                 "exam_date": "2025-03-01", "outcome": "restricted",
                                                 "findings": SECRET})
    status, html = _part(env, "safety_manager", "/web/partials/worker-file", employee_no="W1")
    assert status == 200 and "withheld" in html and SECRET not in html and "restricted" not in html
    assert "tr data-record=" in html and "2025-03-03 07:00 UTC" in html
    status, html = _part(env, "record_keeper", "/web/partials/worker-file", employee_no="W1")
    assert status == 200 and SECRET in html and "restricted" in html
    (rec,) = env.ok("GET", f"/workers/{wid}/exposure-records")
    status, html = _part(env, "safety_manager", f"/web/partials/exposure-records/{rec['id']}")
    assert status == 200 and "data-chart=" in html and "GBZ 2.1-2019" in html and SECRET not in html
    assert ("health.file.read", f"worker:{wid}") in _audit(env, "user:safety_manager")
    assert ("health.exposure.read", f"worker:{wid}") in _audit(env, "user:safety_manager")
    assert _part(env, "record_keeper", "/web/partials/worker-file", employee_no="NOPE")[0] == 404
    assert _part(env, "facilities", "/web/partials/worker-file", employee_no="W1")[0] == 403


def test_a_worker_reaches_only_their_own_file(env: Env) -> None:
    wid = two_zone_plant(env)  # W1 is the `worker` account's
    other = env.worker("W2", name="Other Person")
    env.compute()
    (rec,) = env.ok("GET", f"/workers/{wid}/exposure-records")
    status, html = _part(env, "worker", "/web/partials/me")
    assert status == 200 and 'data-worker="W1"' in html and "Other Person" not in html
    assert _part(env, "worker", "/web/partials/worker-file", employee_no="W1")[0] == 200
    assert _part(env, "worker", f"/web/partials/exposure-records/{rec['id']}")[0] == 200
    for path, params in (("/web/partials/worker-file", {"employee_no": "W2"}),
                         ("/web/partials/worker-file", {"employee_no": "NOPE"}),
                         ("/web/partials/exposure-records/999999", {})):
        status, html = _part(env, "worker", path, **params)
        assert status == 403 and "Other Person" not in html and "W2" not in html, (path, params)
    status, html = _part(env, "worker2", "/web/partials/me")
    assert status == 404 and "No worker file is linked" in html
    reads = {t for a, t in _audit(env, "user:worker") if not a.endswith((".denied", ".not_found"))}
    assert reads == {f"worker:{wid}"} and f"worker:{other}" not in reads


def test_a_linked_alert_shows_with_its_evidence_chart(env: Env) -> None:
    """A critical CO alert in zone A while W1 is there: the file's part lists it with its kept series as a chart
    against the alert level, and a link to the alert for the staff (not on the worker's own view)."""
    two_zone_plant(env)
    with env.session() as s:
        sid = s.execute(select(Sensor.id).where(Sensor.name == "a-co")).scalar_one()
        evaluate_thresholds(s, (Reading(sensor="a-co", quantity="co", value=80.0, unit="ppm", ts=at(9)),),
                            {"a-co": sid}, env.app.state.services.alerting)
        s.commit()
    status, html = _part(env, "safety_manager", "/web/partials/worker-file", employee_no="W1")
    assert status == 200 and 'data-kind="alert"' in html and "evidence-chart" in html, html
    assert 'href="/alerts/' in html
    status, html = _part(env, "worker", "/web/partials/me")
    assert status == 200 and 'data-kind="alert"' in html and 'href="/alerts/' not in html

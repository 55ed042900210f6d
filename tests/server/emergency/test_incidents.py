"""Emergency plans: triggered by alerts, checklist, muster with signed links, notifications, drills, report."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from server.emergency.muster import muster_signature
from server.emergency.plans import PlanError, load_plans
from server.notify.models import NotificationJob
from tests.kit.waiting import wait_for
from tests.server.alerts.alert_kit import running_server

REPO = Path(__file__).resolve().parents[3]
SECRET = "s3cret-webhook-key-0123456789"


@pytest.fixture
def setup(tmp_path, webhook):  # type: ignore[no-untyped-def]
    plans = tmp_path / "emergency"
    shutil.copytree(REPO / "config" / "emergency", plans)
    text = "\n".join(line for line in (plans / "toxic-release.toml").read_text().splitlines()
                     if not line.startswith("contact = "))  # no mail to example.com from the tests
    li_na = f'\n[[roster]]\nid = "w-002"\nname = "Li Na"\ncontact = "{webhook.url.replace("http", "json")}"\n'
    text = text.replace('zones = ["tank-farm"]', 'zones = ["tank-farm", ""]')
    (plans / "toxic-release.toml").write_text(text + li_na)
    notify = tmp_path / "notify.toml"
    notify.write_text(f"""public_url = "http://hazmon.test"
[[groups]]
name = "emergency-team"
members = [{{ name = "rescue", webhook = "{webhook.url}", secret = "{SECRET}" }}]
""")
    return {"emergency_dir": plans, "notify_file": notify, "secret_key": "test-secret-key"}


def test_plans_load_from_config_emergency():
    """The shipped plans validate; a plan without steps is refused with the file and key."""
    plans = load_plans(REPO / "config" / "emergency")
    assert {"toxic-release", "oxygen-deficiency"} <= set(plans)


def test_a_bad_plan_stops_start_up(tmp_path):
    """A plan file with an unknown key names the file and the key."""
    (tmp_path / "bad.toml").write_text('id = "x"\ntitle = "x"\nstepz = []\n')
    with pytest.raises(PlanError, match=r"bad\.toml"):
        load_plans(tmp_path)


def test_second_level_h2s_alarm_starts_the_plan_once(tmp_path, database_url, setup, webhook):
    """A critical H2S alert starts the toxic-release incident with its checklist; further alerts join it."""
    with running_server(tmp_path, database_url, **setup) as server:
        server.feed("h2s-1", "h2s", "ppm", [25])
        server.feed("h2s-2", "h2s", "ppm", [30])
        [incident] = server.get("/api/v1/incidents")
        assert incident["plan"] == "toxic-release" and incident["drill"] is False
        detail = server.get(f"/api/v1/incidents/{incident['id']}")
        assert [s["owner"] for s in detail["steps"]][:2] == ["zone supervisor", "control room"]
        assert detail["muster_count"] == {"expected": 2, "safe": 0, "missing": 2}
        assert [e["kind"] for e in detail["timeline"]] == ["opened", "notified", "trigger"]
        server.run_due()
        wait_for(lambda: len(webhook.requests) >= 2, timeout=10, what="the team and the person's webhooks")
        team, person = sorted(webhook.payloads(), key=lambda p: "title" in p)  # signed webhook, apprise json://
        assert team["kind"] == "incident" and team["incident"]["plan"] == "toxic-release"
        assert person["title"].startswith("[EMERGENCY] Leave") and "/muster/" in person["message"]


def test_oxygen_deficiency_starts_its_plan(tmp_path, database_url, setup):
    """O2 below 19.5 % vol starts the oxygen-deficiency plan."""
    with running_server(tmp_path, database_url, **setup) as server:
        server.feed("o2-1", "o2", "%vol", [18.9])
        assert [i["plan"] for i in server.get("/api/v1/incidents")] == ["oxygen-deficiency"]


def test_signed_link_marks_a_person_safe_and_the_count_follows(tmp_path, database_url, setup):
    """The public muster link works with its signature only; opening it changes nothing, confirming does."""
    with running_server(tmp_path, database_url, **setup) as server:
        server.feed("h2s-1", "h2s", "ppm", [25])
        incident_id = server.get("/api/v1/incidents")[0]["id"]
        sig = muster_signature(b"test-secret-key", incident_id, "w-002")
        assert server.client.get(f"/muster/{incident_id}/w-002", params={"sig": "0" * 40}).status_code == 403
        assert server.client.post(f"/muster/{incident_id}/w-001", params={"sig": sig}).status_code == 403
        page = server.client.get(f"/muster/{incident_id}/w-002", params={"sig": sig})
        assert page.status_code == 200 and "I am safe" in page.text
        assert server.get(f"/api/v1/incidents/{incident_id}")["muster_count"]["safe"] == 0
        forged = server.client.post(f"/muster/{incident_id}/w-002", params={"sig": sig}, data={"csrf": "x"})
        assert forged.status_code == 403  # no CSRF token of the page: refused
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]  # type: ignore[index]
        done = server.client.post(f"/muster/{incident_id}/w-002", params={"sig": sig}, data={"csrf": csrf})
        assert "recorded as safe" in done.text
        count = server.get(f"/api/v1/incidents/{incident_id}")["muster_count"]
        assert count == {"expected": 2, "safe": 1, "missing": 1}
        with server.session() as s:
            link = s.execute(select(NotificationJob.body).where(NotificationJob.kind == "muster")).scalar_one()
        assert f"/muster/{incident_id}/w-002?sig={sig}" in link


def test_checklist_steps_muster_by_api_and_close_out_report(tmp_path, database_url, setup):
    """Steps are completed by their owners, people report in through the API, and the report holds it all."""
    with running_server(tmp_path, database_url, **setup) as server:
        server.feed("h2s-1", "h2s", "ppm", [25])
        iid = server.get("/api/v1/incidents")[0]["id"]
        server.post(f"/api/v1/incidents/{iid}/steps/1/complete", {"note": "zone clear"})
        server.post(f"/api/v1/incidents/{iid}/steps/1/complete", {}, expect=409)
        server.post(f"/api/v1/incidents/{iid}/muster/w-002", token=server.worker, expect=403)
        assert server.post(f"/api/v1/incidents/{iid}/muster/w-001", token=server.worker)["safe"] == 1
        server.post(f"/api/v1/incidents/{iid}/close", {"text": "all accounted for, source isolated"})
        server.post(f"/api/v1/incidents/{iid}/steps/2/complete", {}, expect=409)
        report = server.get(f"/api/v1/incidents/{iid}/report")
        assert report["state"] == "closed" and report["steps"][0]["done_by"] == "maria"
        assert [e["kind"] for e in report["timeline"]][-3:] == ["step", "muster", "closed"]
        page = server.client.get(f"/incidents/{iid}/report.html", headers={"Authorization": f"Bearer {server.viewer}"})
        assert page.status_code == 200 and "1 of 2 safe" in page.text and "NOT ACCOUNTED FOR" in page.text


def test_a_drill_is_marked_as_a_drill_everywhere(tmp_path, database_url, setup, webhook):
    """A drill runs the whole plan; its notifications, timeline, page and report say DRILL."""
    with running_server(tmp_path, database_url, **setup) as server:
        out = server.post("/api/v1/incidents", {"plan": "toxic-release", "zone": "tank-farm", "drill": True})
        assert out["drill"] is True and out["muster_count"]["expected"] == 2
        assert all(e["text"].startswith("[DRILL]") for e in out["timeline"])
        server.run_due()
        wait_for(lambda: len(webhook.requests) >= 2, timeout=10, what="the team and the person's webhooks")
        team, person = sorted(webhook.payloads(), key=lambda p: "title" in p)
        assert team["drill"] is True and team["subject"].startswith("[DRILL]")
        assert person["title"].startswith("[DRILL]") and "THIS IS A DRILL" in person["message"]
        page = server.client.get(f"/incidents/{out['id']}/report.html",
                                 headers={"Authorization": f"Bearer {server.manager}"})
        assert "DRILL — NOT A REAL EMERGENCY" in page.text
        sig = muster_signature(b"test-secret-key", out["id"], "w-001")
        assert "[DRILL]" in server.client.get(f"/muster/{out['id']}/w-001", params={"sig": sig}).text


def test_late_alerts_do_not_start_a_plan(tmp_path, database_url, setup):
    """Readings that arrive long after they were measured raise a late alert but start no emergency."""
    with running_server(tmp_path, database_url, **setup) as server:
        server.clock.now += 3_600_000
        server.feed("h2s-1", "h2s", "ppm", [120], start=server.clock.now - 3_000_000)
        assert server.alerts()[0]["late"] is True
        assert server.get("/api/v1/incidents") == []


def test_zone_roster_comes_from_health_assignments(tmp_path, database_url, setup):
    """Everyone assigned to the zone now is on the muster list, merged with the plan's roster."""
    from server.org.models import Assignment, Worker, Zone

    with running_server(tmp_path, database_url, **setup) as server:
        now = server.clock.now
        with server.session() as s:
            zone = Zone(code="tank-farm", name="Tank farm", site="plant-a")
            worker = Worker(employee_no="e-77", name="Wang Fang", created_ms=now)
            s.add_all([zone, worker])
            s.flush()
            s.add(Assignment(worker_id=worker.id, zone_id=zone.id, start_ms=now - 3_600_000, end_ms=now + 3_600_000,
                             shift_start_ms=now - 3_600_000, shift_end_ms=now + 3_600_000))
            s.commit()
        out = server.post("/api/v1/incidents", {"plan": "toxic-release", "zone": "tank-farm"})
        assert {m["person"] for m in out["muster"]} == {"e-77", "w-001", "w-002"}

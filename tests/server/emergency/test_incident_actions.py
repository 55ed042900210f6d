"""The incident page's server-side rules: a step can be undone (by name, on the timeline), a person's muster link
sent again, "I need help" on the public link makes the incident urgent and tells the team, closing with open
steps needs a reason, and a bad muster link answers a page a person can read."""

from __future__ import annotations

import re

from sqlalchemy import select

from server.emergency.muster import muster_signature
from server.notify.models import NotificationJob
from tests.server.alerts.alert_kit import running_server
from tests.server.emergency.test_incidents import setup  # noqa: F401 - the plans and notify settings fixture


def _start(server) -> int:  # type: ignore[no-untyped-def]
    out = server.post("/api/v1/incidents", {"plan": "toxic-release", "zone": "tank-farm"})
    return int(out["id"])


def test_a_step_is_undone_by_name_and_both_marks_stay_on_the_timeline(tmp_path, database_url, setup):  # noqa: F811
    with running_server(tmp_path, database_url, **setup) as server:
        iid = _start(server)
        server.post(f"/api/v1/incidents/{iid}/steps/2/undo", {}, expect=409)  # not done yet
        server.post(f"/api/v1/incidents/{iid}/steps/2/complete", {"note": "brigade called"})
        server.post(f"/api/v1/incidents/{iid}/steps/2/undo", {}, token=server.viewer, expect=403)
        out = server.post(f"/api/v1/incidents/{iid}/steps/2/undo", {})
        assert out["steps"][1]["done_ms"] is None and out["steps"][1]["done_by"] is None
        [undone] = [e for e in out["timeline"] if e["kind"] == "undone"]
        assert undone["actor"] == "maria" and "marked done by maria" in undone["text"]
        server.post(f"/api/v1/incidents/{iid}/steps/9/undo", {}, expect=404)


def test_staff_mark_is_recorded_under_their_name(tmp_path, database_url, setup):  # noqa: F811
    with running_server(tmp_path, database_url, **setup) as server:
        iid = _start(server)
        server.post(f"/api/v1/incidents/{iid}/muster/w-002")
        [m] = [m for m in server.get(f"/api/v1/incidents/{iid}")["muster"] if m["person"] == "w-002"]
        assert m["marked_by"] == "maria" and m["via"] == "staff"


def test_closing_with_open_steps_needs_a_reason(tmp_path, database_url, setup):  # noqa: F811
    with running_server(tmp_path, database_url, **setup) as server:
        iid = _start(server)
        r = server.client.post(f"/api/v1/incidents/{iid}/close", json={"text": "   "},
                               headers={"Authorization": f"Bearer {server.manager}"})
        assert r.status_code == 409 and "reason" in r.json()["detail"] and "\n" not in r.json()["detail"]
        assert server.get(f"/api/v1/incidents/{iid}")["state"] == "open"
        out = server.post(f"/api/v1/incidents/{iid}/close", {"text": "false alarm: sensor fault"})
        assert out["state"] == "closed" and out["close_note"].endswith("reason: false alarm: sensor fault")
        assert "steps 1, 2, 3, 4 not done" in out["close_note"]


def test_a_muster_link_is_sent_again_to_one_person(tmp_path, database_url, setup):  # noqa: F811
    with running_server(tmp_path, database_url, **setup) as server:
        iid = _start(server)
        assert server.post(f"/api/v1/incidents/{iid}/muster/w-002/resend") == {"queued": 1}
        server.post(f"/api/v1/incidents/{iid}/muster/w-001/resend", expect=409)  # no contact
        server.post(f"/api/v1/incidents/{iid}/muster/nobody/resend", expect=404)
        server.post(f"/api/v1/incidents/{iid}/muster/w-002/resend", token=server.viewer, expect=403)
        with server.session() as s:
            bodies = s.execute(select(NotificationJob.body).where(NotificationJob.kind == "muster",
                                                                  NotificationJob.recipient == "w-002")).scalars().all()
        sig = muster_signature(b"test-secret-key", iid, "w-002")
        assert len(bodies) == 2 and all(f"/muster/{iid}/w-002?sig={sig}" in b for b in bodies)
        assert any(e["kind"] == "resent" for e in server.get(f"/api/v1/incidents/{iid}")["timeline"])


def test_i_need_help_makes_the_incident_urgent_and_tells_the_team(tmp_path, database_url, setup):  # noqa: F811
    with running_server(tmp_path, database_url, **setup) as server:
        iid = _start(server)
        assert server.get(f"/api/v1/incidents/{iid}")["urgency"] == "normal"
        sig = muster_signature(b"test-secret-key", iid, "w-002")
        page = server.client.get(f"/muster/{iid}/w-002", params={"sig": sig})
        assert "I need help" in page.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]  # type: ignore[index]
        done = server.client.post(f"/muster/{iid}/w-002", params={"sig": sig}, data={"csrf": csrf, "answer": "help"})
        assert done.status_code == 200 and "help is coming" in done.text
        r = server.get(f"/api/v1/incidents/{iid}")
        assert r["urgency"] == "help" and r["muster_count"]["safe"] == 0
        assert [e["actor"] for e in r["timeline"] if e["kind"] == "help"] == ["person:w-002"]
        with server.session() as s:
            jobs = s.execute(select(NotificationJob).where(NotificationJob.key.like(f"incident:{iid}:help:%"))
                             ).scalars().all()
        assert [(j.recipient, j.group_name) for j in jobs] == [("rescue", "emergency-team")]
        assert "w-002 needs help" in jobs[0].subject and "Li Na" not in jobs[0].body
        server.post(f"/api/v1/incidents/{iid}/muster/w-002")
        assert server.get(f"/api/v1/incidents/{iid}")["urgency"] == "normal"


def test_a_bad_muster_link_answers_a_readable_page(tmp_path, database_url, setup):  # noqa: F811
    with running_server(tmp_path, database_url, **setup) as server:
        iid = _start(server)
        for path, params in ((f"/muster/{iid}/w-002", {"sig": "0" * 40}), (f"/muster/{iid}/w-002", {}),
                             ("/muster/abc/w-002", {"sig": "x"}), (f"/muster/{iid + 7}/w-002", {"sig": "x"})):
            r = server.client.get(path, params=params)
            assert r.status_code == 403 and r.headers["content-type"].startswith("text/html"), path
            assert "This link does not work" in r.text and "muster point" in r.text
        zh = server.client.get(f"/muster/{iid}/w-002", params={"sig": "0" * 40},
                               headers={"Cookie": "hazmon_lang=zh-Hans"})  # a phone set to Chinese
        assert zh.status_code == 403 and '<html lang="zh-Hans">' in zh.text and "<h1>此链接无法使用</h1>" in zh.text
        assert "请使用消息中最新的链接" in zh.text and "集合点" in zh.text
        sig = muster_signature(b"test-secret-key", iid + 7, "w-002")
        r = server.client.get(f"/muster/{iid + 7}/w-002", params={"sig": sig})
        assert r.status_code == 404 and "not known" in r.text
        stale = server.client.post(f"/muster/{iid}/w-002", params={"sig": muster_signature(b"test-secret-key", iid,
                                                                                           "w-002")})
        assert stale.status_code == 403 and "expired" in stale.text


def test_the_incident_pages_are_shells_and_their_parts_need_a_sign_in(tmp_path, database_url, setup):  # noqa: F811
    with running_server(tmp_path, database_url, **setup) as server:
        iid = _start(server)
        for path in ("/incident", f"/incident?id={iid}", f"/incidents/{iid}"):
            r = server.client.get(path)
            assert r.status_code == 200 and "<script>" not in r.text and " style=" not in r.text
            assert "Li Na" not in r.text
        for path in ("/web/partials/incidents", f"/web/partials/incidents/{iid}"):
            assert server.client.get(path).status_code == 401
        viewer = {"Authorization": f"Bearer {server.viewer}"}  # the auditor reads, and has no buttons
        part = server.client.get(f"/web/partials/incidents/{iid}", headers=viewer)
        assert part.status_code == 200 and "Li Na" in part.text and "Mark done" not in part.text
        assert "Close incident" not in part.text and "may read this incident but not act" in part.text
        manager = server.client.get(f"/web/partials/incidents/{iid}",
                                    headers={"Authorization": f"Bearer {server.manager}"})
        assert "Mark done" in manager.text and "Resend link" in manager.text and "Close incident" in manager.text
        zh = server.client.get(f"/web/partials/incidents/{iid}", headers={
            "Authorization": f"Bearer {server.manager}", "Cookie": "hazmon_lang=zh-Hans"}).text
        assert "<h2>处置清单</h2>" in zh and "<h2>集合清点</h2>" in zh and ">标记完成</button>" in zh
        missing = server.client.get("/web/partials/incidents/999", headers=viewer)
        assert missing.status_code == 404 and "no incident 999" in missing.text

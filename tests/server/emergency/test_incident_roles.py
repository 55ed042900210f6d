"""Least privilege on incidents: facilities sees who is missing by person id, never by name; the auditor reads
incidents but cannot complete steps, write notes or mark people safe."""

from __future__ import annotations

from tests.kit.log_leaks import sensitive
from tests.kit.server import add_users, create_api_token, session
from tests.server.alerts.alert_kit import running_server
from tests.server.emergency.test_incidents import setup  # noqa: F401  (the fixture)

LI_NA = sensitive("Li Na")


def test_facilities_sees_no_names_and_the_auditor_only_reads(tmp_path, database_url, setup):  # noqa: F811
    """The incident, its report and the printable page show facilities no names; the auditor's writes are 403."""
    with running_server(tmp_path, database_url, **setup) as server:
        with session(server.client.app) as s:
            add_users(s, {"fac": "facilities"}, now_ms=server.clock.now)
            facilities = create_api_token(s, user_name="fac", label="t", now_ms=server.clock.now)
            s.commit()
        server.feed("h2s-1", "h2s", "ppm", [25])
        iid = server.get("/api/v1/incidents")[0]["id"]
        server.post(f"/api/v1/incidents/{iid}/muster/w-002")  # Li Na is safe: a timeline line with her name
        assert LI_NA in {m["name"] for m in server.get(f"/api/v1/incidents/{iid}")["muster"]}
        for path in (f"/api/v1/incidents/{iid}", f"/api/v1/incidents/{iid}/report"):
            seen = server.get(path, token=facilities)
            assert {m["name"] for m in seen["muster"]} == {None} and LI_NA not in str(seen)
            assert {m["person"] for m in seen["muster"]} >= {"w-001", "w-002"}
        page = server.client.get(f"/incidents/{iid}/report.html", headers={"Authorization": f"Bearer {facilities}"})
        assert page.status_code == 200 and LI_NA not in page.text
        server.post(f"/api/v1/incidents/{iid}/notes", {"text": "gas team on site"}, token=facilities)

        auditor = server.viewer
        assert server.get(f"/api/v1/incidents/{iid}", token=auditor)["id"] == iid
        server.post(f"/api/v1/incidents/{iid}/notes", {"text": "x"}, token=auditor, expect=403)
        server.post(f"/api/v1/incidents/{iid}/steps/1/complete", {}, token=auditor, expect=403)
        server.post(f"/api/v1/incidents/{iid}/muster/w-001", token=auditor, expect=403)

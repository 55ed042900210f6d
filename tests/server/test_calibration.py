"""The calibration register: filled from the agents' configs (their status reports, the real wire contract) and
edited in the API by facilities; an API edit stands until the site changes its config; shown with each sensor;
an overdue sensor raises `watchdog.calibration_due` until the register holds a due date not past. The clock is
the server's, at T0 = 2025-11-29 10:00 UTC."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from exposure.wire import SensorCalibration, StatusReport
from server.accounts.models import AuditEntry
from server.alerts.watchdogs import CALIBRATION_DUE, CalibrationSeen, WatchdogConfig, conditions
from server.calibration.due import Register
from tests.kit import server_internals
from tests.kit.clock import T0
from tests.kit.server import add_users, create_api_token
from tests.server.alerts.alert_kit import Server, running_server

SENSOR = "tank-3-gas"
PATH = f"/api/v1/sensors/{SENSOR}/calibration"
DAY_MS = 86_400_000


@pytest.fixture
def server(tmp_path: Path, database_url: str) -> Iterator[Server]:
    with running_server(tmp_path, database_url, watchdog_calibration_severity="critical") as s:
        with s.session() as db:
            add_users(db, {"fatima": "facilities"}, now_ms=s.clock.now)
            s.extra["facilities"] = create_api_token(db, user_name="fatima", label="t", now_ms=s.clock.now)
            db.commit()
        s.feed(SENSOR, "h2s", "ppm", [0.5, 0.6])  # the server knows a sensor from its first readings
        yield s


def _status(server: Server, calibration: dict[str, SensorCalibration] | None) -> None:
    report = StatusReport(state="online", version="test", ts=server.clock.now, calibration=calibration)
    r = server.client.post("/api/v1/agent-status", json=report.to_json(),
                           headers={"Authorization": f"Bearer {server.agent_token}"})
    assert r.status_code == 200, r.text


def _put(server: Server, body: dict[str, Any], token: str | None = None) -> Any:
    token = token or server.extra["facilities"]
    return server.client.put(PATH, json=body, headers={"Authorization": f"Bearer {token}"})


def _audit(server: Server) -> list[tuple[str, str, str]]:
    with server.session() as db:
        rows = db.execute(select(AuditEntry).where(AuditEntry.action == "calibration_set")
                          .order_by(AuditEntry.id)).scalars()
        return [(a.actor, a.target, a.detail) for a in rows]


CONFIG = SensorCalibration(last_calibrated="2025-10-01", calibration_interval_days=180, last_bump_test="2025-11-15",
                           bump_test_interval_days=30, certificate="CAL-2025-0412")


def test_an_agent_status_with_calibration_fills_the_register_and_shows_with_the_sensor(server: Server) -> None:
    """The agent's entry is stored with its due dates computed (last + interval), source agent; an entry for a
    sensor without readings yet waits for a report after its first readings; GET /sensors shows the state."""
    _status(server, {SENSOR: CONFIG, "new-dust": SensorCalibration(last_calibrated="2025-11-01",
                                                                   calibration_interval_days=365)})
    got = server.get(PATH, token=server.viewer)  # an auditor reads it
    assert {k: got[k] for k in ("last_calibrated", "calibration_interval_days", "calibration_due", "last_bump_test",
                                "bump_test_interval_days", "bump_test_due", "certificate", "source",
                                "updated_by", "overdue")} == {
        "last_calibrated": "2025-10-01", "calibration_interval_days": 180, "calibration_due": "2026-03-30",
        "last_bump_test": "2025-11-15", "bump_test_interval_days": 30, "bump_test_due": "2025-12-15",
        "certificate": "CAL-2025-0412", "source": "agent", "updated_by": "agent:plant-a/gw-1", "overdue": False}
    assert server.client.get("/api/v1/sensors/new-dust/calibration",
                             headers={"Authorization": f"Bearer {server.manager}"}).status_code == 404
    server.feed("new-dust", "pm10", "mg/m3", [0.1])
    _status(server, {SENSOR: CONFIG, "new-dust": SensorCalibration(last_calibrated="2025-11-01",
                                                                   calibration_interval_days=365)})
    assert server.get("/api/v1/sensors/new-dust/calibration")["calibration_due"] == "2026-11-01"
    listed = {s["name"]: s["calibration"] for s in server.get("/api/v1/sensors")}
    assert listed[SENSOR] == {"calibration_due": "2026-03-30", "bump_test_due": "2025-12-15",
                              "certificate": "CAL-2025-0412", "overdue": False}
    assert [target for _, target, _ in _audit(server)] == ["sensor:plant-a/tank-3-gas", "sensor:plant-a/new-dust"]


def test_a_status_without_calibration_or_with_a_bad_entry_is_still_stored(server: Server) -> None:
    """An older agent's status (no `calibration`) changes nothing in the register; a bad entry is left out, the
    other entries and the status itself are kept."""
    _status(server, None)
    assert server.get(PATH)["source"] is None
    r = server.client.post("/api/v1/agent-status", headers={"Authorization": f"Bearer {server.agent_token}"},
                           json={"state": "online", "outbox_batches": 3,
                                 "calibration": {SENSOR: CONFIG.to_json(), "other": {"last_calibrated": "soon"}}})
    assert r.status_code == 200, r.text
    assert server.get(PATH)["certificate"] == "CAL-2025-0412"
    assert [a["outbox_batches"] for a in server.get("/api/v1/agents")] == [3]


def test_put_then_get_round_trip_is_audited(server: Server) -> None:
    """Facilities set the whole entry; a due date given directly is stored as given, the other is computed; GET
    answers what PUT answered; the change is in the audit log under the user's name."""
    body = {"last_calibrated": "2025-11-20", "calibration_due": "2026-05-20", "last_bump_test": "2025-11-28",
            "bump_test_interval_days": 30, "certificate": "https://certs.example/CAL-77"}
    r = _put(server, body)
    assert r.status_code == 200, r.text
    put = r.json()
    assert (put["calibration_due"], put["bump_test_due"], put["calibration_interval_days"]) == (
        "2026-05-20", "2025-12-28", None)
    assert (put["source"], put["updated_by"], put["updated_at_ms"], put["overdue"]) == (
        "api", "fatima", server.clock.now, False)
    assert server.get(PATH) == put
    (actor, target, detail), = _audit(server)
    assert (actor, target) == ("fatima", "sensor:plant-a/tank-3-gas")
    assert "calibration_due=2026-05-20" in detail and "source=api" in detail


def test_an_api_edit_is_not_overwritten_by_the_same_agent_values_but_a_changed_config_wins(server: Server) -> None:
    """The agent re-sends its config with every status: the same values leave an API edit alone; a changed
    config (a new calibration date) replaces it, and says so in the audit log."""
    _status(server, {SENSOR: CONFIG})
    assert _put(server, {"last_calibrated": "2025-11-25", "calibration_interval_days": 90,
                         "certificate": "CAL-NEW"}).status_code == 200
    _status(server, {SENSOR: CONFIG})
    kept = server.get(PATH)
    assert (kept["source"], kept["last_calibrated"], kept["calibration_due"], kept["certificate"]) == (
        "api", "2025-11-25", "2026-02-23", "CAL-NEW")
    changed = SensorCalibration(last_calibrated="2025-11-27", calibration_interval_days=180,
                                certificate="CAL-2025-0501")
    _status(server, {SENSOR: changed})
    now = server.get(PATH)
    assert (now["source"], now["last_calibrated"], now["calibration_due"], now["certificate"],
            now["last_bump_test"]) == ("agent", "2025-11-27", "2026-05-26", "CAL-2025-0501", None)
    assert [actor for actor, _, _ in _audit(server)] == ["agent:plant-a/gw-1", "fatima", "agent:plant-a/gw-1"]


def test_an_overdue_sensor_raises_calibration_due_and_a_new_date_resolves_it(server: Server) -> None:
    """Calibrated 2025-05-01 every 180 days: due 2025-10-28, overdue since 2025-10-29. The watchdog opens
    watchdog.calibration_due (HAZMON_WATCHDOG_CALIBRATION_SEVERITY) saying so; the sensor shows overdue and in
    alert; its flagged readings keep their flag. A PUT with a new date resolves it at the next check."""
    _status(server, {SENSOR: SensorCalibration(last_calibrated="2025-05-01", calibration_interval_days=180)})
    server.feed(SENSOR, "h2s", "ppm", [0.7], flags=("calibration_overdue",))
    assert server_internals.check_watchdogs(server.app, server.clock.now) == (1, 0)
    (alert,) = server.alerts(rule=CALIBRATION_DUE)
    assert (alert["sensor"], alert["state"], alert["severity"]) == (SENSOR, "open", "critical")
    assert alert["message"] == f"sensor {SENSOR}: calibration overdue since 2025-10-29 (due 2025-10-28)"
    (listed,) = server.get("/api/v1/sensors")
    assert (listed["state"], listed["calibration"]["overdue"]) == ("alert", True)
    assert server.get(PATH)["overdue_reasons"] == ["calibration overdue since 2025-10-29 (due 2025-10-28)"]
    assert server_internals.check_watchdogs(server.app, server.clock.now + 1000) == (0, 0)  # one episode

    assert _put(server, {"last_calibrated": "2025-11-28", "calibration_interval_days": 180}).status_code == 200
    assert server_internals.check_watchdogs(server.app, server.clock.now + 2000) == (0, 1)
    assert server.alerts(rule=CALIBRATION_DUE)[0]["state"] == "resolved"
    assert server.get("/api/v1/sensors")[0]["calibration"]["overdue"] is False
    flagged = server.get("/api/v1/readings", sensor=SENSOR)["readings"][-1]
    assert flagged["flags"] == ["calibration_overdue"]  # a reading keeps what was true when it was measured


def test_only_facilities_and_admin_edit_the_register_and_staff_read_it(server: Server) -> None:
    """A safety manager or auditor reads but gets 403 on PUT; a worker may not read; no token is 401."""
    _status(server, {SENSOR: CONFIG})
    body = {"last_calibrated": "2025-11-20", "calibration_interval_days": 30}
    for read_only in (server.manager, server.viewer):
        assert server.get(PATH, token=read_only)["certificate"] == "CAL-2025-0412"
        r = _put(server, body, token=read_only)
        assert r.status_code == 403, r.text
    assert server.client.get(PATH, headers={"Authorization": f"Bearer {server.worker}"}).status_code == 403
    assert server.client.get(PATH).status_code == 401
    assert server.get(PATH)["source"] == "agent"  # nothing refused was stored
    assert _put(server, body).status_code == 200


@pytest.mark.parametrize(("body", "detail"), [
    ({"calibration_interval_days": 0}, "calibration_interval_days: Input should be greater than 0"),
    ({"last_calibrated": "2025-11-01", "calibration_intervall_days": 30},
     "calibration_intervall_days: unknown field (a typo?)"),
    ({"last_bump_test": "15/11/2025"}, "last_bump_test: a date as YYYY-MM-DD"),
    ({"last_calibrated": "2025-02-30"},
     "last_calibrated: Input should be a valid date or datetime, day value is outside expected range"),
    ({"last_calibrated": "2025-12-01"}, "last_calibrated: 2025-12-01 is in the future (today is 2025-11-29, UTC)"),
    ({"last_calibrated": "2025-11-01", "calibration_interval_days": 30, "calibration_due": "2026-01-01"},
     "calibration_due: 2026-01-01 is not last_calibrated + calibration_interval_days (2025-12-01); give the due "
     "date or the interval, not both"),
])
def test_a_bad_body_is_422_with_one_line_naming_the_field(server: Server, body: dict[str, Any], detail: str) -> None:
    """Unknown fields, malformed or impossible dates, intervals not above 0, a last date in the future, a due date
    that contradicts last + interval: 422, `detail` one line; nothing is stored."""
    r = _put(server, body)
    assert (r.status_code, r.json()["detail"]) == (422, detail)
    assert server.get(PATH)["source"] is None


def test_an_unknown_sensor_is_404_and_a_body_that_is_not_json_is_422(server: Server) -> None:
    """GET and PUT of a sensor the server never heard of: 404 naming it. Garbage: 422 saying so."""
    headers = {"Authorization": f"Bearer {server.extra['facilities']}"}
    r = server.client.get("/api/v1/sensors/nope/calibration", headers=headers)
    assert (r.status_code, r.json()["detail"]) == (404, "no sensor 'nope'")
    assert server.client.put("/api/v1/sensors/nope/calibration", json={}, headers=headers).status_code == 404
    r = server.client.put(PATH, content=b"{not json", headers={**headers, "Content-Type": "application/json"})
    assert (r.status_code, r.json()["detail"]) == (422, "body: not valid JSON")


# -- the rule itself, pure --------------------------------------------------------------------------------------


def _seen(**register: Any) -> CalibrationSeen:
    return CalibrationSeen(7, SENSOR, "plant-a", Register(**register))


def test_calibration_due_opens_the_day_after_the_due_date_and_names_each_check() -> None:
    """Due today: nothing. Due yesterday: open, since today. Both checks late: one alert naming both. An interval
    with no date recorded is overdue, as the agent flags it."""
    config = WatchdogConfig()
    today = T0  # 2025-11-29
    due_today = _seen(calibration_due=date(2025, 11, 29))
    assert conditions([], [], now_ms=today, config=config, calibrations=[due_today]) == []
    (c,) = conditions([], [], now_ms=today, config=config, calibrations=[_seen(calibration_due=date(2025, 11, 28))])
    assert (c.rule_id, c.sensor_id, c.subject, c.value_s) == (CALIBRATION_DUE, 7, SENSOR, 10 * 3600)
    assert c.message == f"sensor {SENSOR}: calibration overdue since 2025-11-29 (due 2025-11-28)"
    (both,) = conditions([], [], now_ms=today, config=config, calibrations=[
        _seen(last_calibrated=date(2025, 1, 1), calibration_interval_days=300,
              last_bump_test=date(2025, 10, 1), bump_test_interval_days=30)])
    assert both.message == (f"sensor {SENSOR}: calibration overdue since 2025-10-29 (due 2025-10-28); "
                            "bump test overdue since 2025-11-01 (due 2025-10-31)")
    assert both.value_s == (today - (T0 - 31 * DAY_MS - 10 * 3_600_000)) / 1000
    (never,) = conditions([], [], now_ms=today, config=config, calibrations=[_seen(bump_test_interval_days=30)])
    assert never.message == f"sensor {SENSOR}: bump test overdue: due every 30 days and none is recorded"

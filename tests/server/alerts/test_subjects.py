"""Worker subjects, unit conversion and rostered shifts of alert rules, through the real ingest path on SQLite and
PostgreSQL. Numbers are computed by hand in the docstrings and comments."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.series.models import Sensor
from tests.server.alerts.alert_kit import T0

HOUR = 3_600_000


def put_rules(server, text: str) -> None:
    r = server.client.put("/api/v1/rules", content=text, headers={
        "Authorization": f"Bearer {server.manager}", "Content-Type": "text/plain"})
    assert r.status_code == 200, r.text


def sensor_id(session, name: str) -> int:
    return session.execute(select(Sensor.id).where(Sensor.name == name)).scalar_one()


def add_worker(session, employee_no: str) -> int:
    from server.org.models import Worker

    w = Worker(employee_no=employee_no, name=f"Worker {employee_no}", created_ms=T0)
    session.add(w)
    session.flush()
    return w.id


def wear(session, worker_id: int, sensor: str, start: int, end: int) -> None:
    from server.org.models import PersonalSensorAssignment

    session.add(PersonalSensorAssignment(worker_id=worker_id, sensor_id=sensor_id(session, sensor),
                                         start_ms=start, end_ms=end))


def add_zone(session, code: str, sensors: list[str] = ()) -> int:  # type: ignore[assignment]
    from server.org.models import Zone, ZoneSensor

    zone = Zone(code=code, name=code, site="plant-a")
    session.add(zone)
    session.flush()
    for name in sensors:
        session.add(ZoneSensor(zone_id=zone.id, sensor_id=sensor_id(session, name), start_ms=0))
    return zone.id


def roster(session, worker_id: int, zone_id: int, shift_start: int, shift_end: int) -> None:
    from server.org.models import Assignment

    session.add(Assignment(worker_id=worker_id, zone_id=zone_id, start_ms=shift_start, end_ms=shift_end,
                           shift_start_ms=shift_start, shift_end_ms=shift_end))


WORKER_RULE = """
[[rules]]
id = "h2s-worker"
quantity = "h2s"
unit = "ppm"
workers = "E1*"
levels = [
  { severity = "warning", above = 10.0, clear_at = 8.0 },
  { severity = "critical", above = 20.0, clear_at = 18.0 },
]
"""


# -- 1. worker subjects ----------------------------------------------------------------------------------------------


def test_worker_rule_names_the_worker_wearing_the_sensor(server):
    """A `workers` rule watches the personal sensors a matching worker wears at the reading's time; the alert
    names the worker; readings of the sensor outside that time, or worn by a non-matching worker, do nothing."""
    server.feed("badge-1", "h2s", "ppm", [1], start=T0 - 10_000)
    server.feed("fixed-1", "h2s", "ppm", [1], start=T0 - 10_000)
    with server.session() as s:
        e100, x200 = add_worker(s, "E100"), add_worker(s, "X200")
        wear(s, e100, "badge-1", T0, T0 + HOUR)
        wear(s, x200, "badge-1", T0 + HOUR, T0 + 2 * HOUR)
        s.commit()
    put_rules(server, WORKER_RULE)
    server.feed("fixed-1", "h2s", "ppm", [50], start=T0 + 1000)  # not worn by anyone
    server.feed("badge-1", "h2s", "ppm", [50], start=T0 + HOUR + 1000)  # worn by X200: not E1*
    assert server.alerts() == []
    server.feed("badge-1", "h2s", "ppm", [12, 25], start=T0 + 2000)
    [alert] = server.alerts()
    assert alert["rule"] == "h2s-worker" and alert["worker"] == "E100" and alert["sensor"] == "badge-1"
    assert alert["severity"] == "critical" and alert["step"] == 1
    assert alert["trigger_value"] == 12 and alert["worst_value"] == 25
    assert alert["message"] == "h2s-worker on worker E100"
    assert server.alerts(worker="E100") == [alert] and server.alerts(worker="X200") == []
    detail = server.get(f"/api/v1/alerts/{alert['id']}")
    assert "worker=E100" in detail["audit"][0]["detail"]


def test_worker_rule_keeps_one_episode_per_worker_across_sensors(server):
    """One episode per (rule, worker): a second personal sensor of the same worker adds to the open alert, and the
    first sensor handed to another matching worker opens that worker's own alert (while the first is open)."""
    for name in ("badge-1", "badge-2"):
        server.feed(name, "h2s", "ppm", [1], start=T0 - 10_000)
    with server.session() as s:
        e100, e101 = add_worker(s, "E100"), add_worker(s, "E101")
        wear(s, e100, "badge-1", T0, T0 + HOUR)
        wear(s, e100, "badge-2", T0 + HOUR, T0 + 2 * HOUR)
        wear(s, e101, "badge-1", T0 + HOUR, T0 + 2 * HOUR)
        s.commit()
    put_rules(server, WORKER_RULE)
    server.feed("badge-1", "h2s", "ppm", [15], start=T0 + 1000)
    server.feed("badge-2", "h2s", "ppm", [30], start=T0 + HOUR + 1000)  # E100 again, another sensor
    [alert] = server.alerts()
    assert alert["worker"] == "E100" and alert["severity"] == "critical" and alert["worst_value"] == 30
    server.feed("badge-1", "h2s", "ppm", [16], start=T0 + HOUR + 2000)  # now E101's badge
    by_worker = {a["worker"]: a for a in server.alerts()}
    assert set(by_worker) == {"E100", "E101"}
    assert by_worker["E101"]["sensor"] == "badge-1" and by_worker["E101"]["severity"] == "warning"
    assert by_worker["E100"]["id"] == alert["id"] and by_worker["E100"]["state"] == "open"


def test_worker_rule_resolves_by_itself_and_by_hand(server):
    """A worker episode resolves once its clear condition held, and a hand resolution resets the worker's state so
    a condition that still holds opens a new episode."""
    server.feed("badge-1", "h2s", "ppm", [1], start=T0 - 10_000)
    with server.session() as s:
        wear(s, add_worker(s, "E100"), "badge-1", T0, T0 + HOUR)
        s.commit()
    put_rules(server, WORKER_RULE)
    server.feed("badge-1", "h2s", "ppm", [12, 9, 5], start=T0 + 1000)  # 9 is above clear_at 8: still open
    [alert] = server.alerts()
    assert alert["state"] == "resolved" and alert["resolved_by"] == "system" and alert["last_ts"] == T0 + 3000
    server.feed("badge-1", "h2s", "ppm", [12], start=T0 + 10_000)
    second = server.alerts(state="open")[0]
    assert second["id"] != alert["id"] and second["worker"] == "E100"
    server.post(f"/api/v1/alerts/{second['id']}/resolve", {"reason": "worker evacuated"})
    server.feed("badge-1", "h2s", "ppm", [12], start=T0 + 11_000)
    assert len(server.alerts()) == 3 and len(server.alerts(state="open")) == 1


def test_worker_rule_stel_uses_the_workers_sensors_while_worn(server):
    """A worker STEL averages the 15 min of the worker's personal sensors while worn: 7.5 min at 60 ppm on badge-1
    then 7.5 min at 20 ppm on badge-2 -> (60 x 450 + 20 x 450) / 900 = 40 ppm > 35 (NIOSH STEL of NH3)."""
    for name in ("badge-1", "badge-2"):
        server.feed(name, "nh3", "ppm", [0], start=T0 - 3 * HOUR)
    with server.session() as s:
        e100 = add_worker(s, "E100")
        wear(s, e100, "badge-1", T0, T0 + 455_000)  # readings are attributed by timestamp, [start, end)
        wear(s, e100, "badge-2", T0 + 455_000, T0 + HOUR)
        s.commit()
    put_rules(server, '[[rules]]\nid = "nh3-worker"\nquantity = "nh3"\nmetric = "stel"\nunit = "ppm"\n'
                      'workers = "*"\nprofile = "us-niosh"\nlevels = [{ severity = "critical", limit = "stel" }]\n')
    server.feed("badge-1", "nh3", "ppm", [60.0] * 45, start=T0 + 10_000, step_ms=10_000, interval_s=10)
    server.feed("badge-2", "nh3", "ppm", [20.0] * 45, start=T0 + 460_000, step_ms=10_000, interval_s=10)
    [alert] = server.alerts()
    assert alert["worker"] == "E100" and alert["metric"] == "stel" and alert["threshold"] == 35
    assert alert["worst_value"] == pytest.approx(40.0, abs=1e-6)


def test_rule_naming_both_a_zone_and_workers_is_refused(server):
    """A rule's subject is sensors, a zone or workers: `zone` and `workers` together are refused."""
    r = server.client.put("/api/v1/rules", content=WORKER_RULE + 'zone = "tank-farm"\n', headers={
        "Authorization": f"Bearer {server.manager}", "Content-Type": "text/plain"})
    assert r.status_code == 422 and "either a `zone` or `workers`" in r.text


# -- 2. units ------------------------------------------------------------------------------------------------------


def test_unit_conversion_uses_the_rules_profile_or_the_sites(server):
    """45 mg/m3 of CO (MW 28.01) is 45 x 24.45 / 28.01 = 39.28 ppm in us-niosh (> 35) and 45 x 24.06 / 28.01 =
    38.65 ppm with the site's profile (cn, 24.06 L/mol); 38 mg/m3 is 33.17 ppm (< 35): no alert."""
    put_rules(server, """
[[rules]]
id = "co-niosh"
quantity = "co"
unit = "ppm"
profile = "us-niosh"
above = 35.0

[[rules]]
id = "co-site"
quantity = "co"
unit = "ppm"
above = 35.0
""")
    server.feed("co-1", "co", "mg/m3", [38.0])
    assert server.alerts() == []
    server.feed("co-1", "co", "mg/m3", [45.0])
    got = {a["rule"]: a for a in server.alerts()}
    assert got["co-niosh"]["trigger_value"] == pytest.approx(45 * 24.45 / 28.01)
    assert got["co-site"]["trigger_value"] == pytest.approx(45 * 24.06 / 28.01)
    assert got["co-niosh"]["unit"] == "ppm"


def test_unit_conversion_from_ppm_to_a_mass_rule(server):
    """A rule in mg/m3 takes ppm readings: 36 ppm of CO in eu (24.06 L/mol) is 36 x 28.01 / 24.06 = 41.91 mg/m3
    (> 40); 500 ppb is 0.5 ppm = 0.58 mg/m3 (no alert)."""
    put_rules(server, '[[rules]]\nid = "co-mass"\nquantity = "co"\nunit = "mg/m3"\nprofile = "eu"\nabove = 40.0\n')
    server.feed("co-1", "co", "ppb", [500.0])
    assert server.alerts() == []
    server.feed("co-1", "co", "ppm", [36.0])
    [alert] = server.alerts()
    assert alert["unit"] == "mg/m3" and alert["trigger_value"] == pytest.approx(36 * 28.01 / 24.06)


def test_unconvertible_reading_is_counted_and_skipped(server, monkeypatch):
    """Without a molecular weight a mg/m3 reading cannot meet a ppm rule: it is counted (alerts_unit_mismatch)
    and skipped, while ppm readings of the same sensor still alarm."""
    import server.alerts.metrics as alerting

    monkeypatch.setattr(alerting, "_molecular_weight", lambda quantity: None)
    put_rules(server, '[[rules]]\nid = "co-ppm"\nquantity = "co"\nunit = "ppm"\nabove = 35.0\n')
    server.feed("co-1", "co", "mg/m3", [500.0, 600.0])
    assert server.alerts() == []
    assert server.get("/api/v1/status")["counters"]["alerts_unit_mismatch"] == 2
    server.feed("co-1", "co", "ppm", [40.0])
    [alert] = server.alerts()
    assert alert["trigger_value"] == 40.0


def test_stel_window_converts_stored_readings(server):
    """A STEL rule in ppm averages stored mg/m3 readings converted: NH3 (MW 17.03) at 28 mg/m3 is 28 x 24.45 /
    17.03 = 40.20 ppm in us-niosh, above the 35 ppm STEL after 15 min."""
    put_rules(server, '[[rules]]\nid = "nh3-stel"\nquantity = "nh3"\nmetric = "stel"\nunit = "ppm"\n'
                      'profile = "us-niosh"\nlevels = [{ severity = "critical", limit = "stel" }]\n')
    server.feed("nh3-1", "nh3", "mg/m3", [28.0] * 91, start=T0, step_ms=10_000, interval_s=10)
    [alert] = server.alerts()
    assert alert["worst_value"] == pytest.approx(28 * 24.45 / 17.03, rel=1e-6)


# -- 3. shifts from the roster -------------------------------------------------------------------------------------

SHIFT_RULES = """
[[rules]]
id = "co-proj-a"
quantity = "co"
metric = "projected_twa"
unit = "ppm"
zone = "zone-a"
above = 70.0

[[rules]]
id = "co-proj-b"
quantity = "co"
metric = "projected_twa"
unit = "ppm"
zone = "zone-b"
above = 70.0
"""


def test_projected_twa_uses_the_rostered_shift_of_the_zone(server):
    """80 ppm for 1 min (interval 60 s) projects to 80 x 10 h / 8 h = 100 ppm over a rostered 10-h shift in zone A,
    and to 80 ppm over the fallback 8-h shift (first reading + shift_h) in zone B with nobody rostered."""
    server.feed("co-a", "co", "ppm", [0], start=T0 - 3 * HOUR)
    server.feed("co-b", "co", "ppm", [0], start=T0 - 3 * HOUR)
    with server.session() as s:
        za = add_zone(s, "zone-a", ["co-a"])
        add_zone(s, "zone-b", ["co-b"])
        roster(s, add_worker(s, "E100"), za, T0, T0 + 10 * HOUR)
        s.commit()
    put_rules(server, SHIFT_RULES)
    server.feed("co-a", "co", "ppm", [80.0], start=T0 + 60_000, interval_s=60)
    server.feed("co-b", "co", "ppm", [80.0], start=T0 + 60_000, interval_s=60)
    got = {a["rule"]: a for a in server.alerts()}
    assert got["co-proj-a"]["trigger_value"] == pytest.approx(100.0)
    assert got["co-proj-a"]["detail"] == "shift from the roster: 2025-11-29T10:00Z to 2025-11-29T20:00Z (10 h)"
    assert got["co-proj-b"]["trigger_value"] == pytest.approx(80.0)
    assert got["co-proj-b"]["detail"].startswith("no rostered shift covers the readings")
    assert "shift_h = 8 h" in got["co-proj-b"]["detail"]


def test_twa_so_far_counts_from_the_rostered_shift_start(server):
    """The 8-h TWA so far sums C x T over the rostered shift: 2 readings of 80 ppm x 60 s -> 9600 ppm.s / 28800 s
    = 0.333 ppm; a reading before the roster's shift opens nothing and is not counted in it."""
    server.feed("co-a", "co", "ppm", [0], start=T0 - 3 * HOUR)
    with server.session() as s:
        za = add_zone(s, "zone-a", ["co-a"])
        roster(s, add_worker(s, "E100"), za, T0, T0 + 8 * HOUR)
        s.commit()
    put_rules(server, '[[rules]]\nid = "co-twa"\nquantity = "co"\nmetric = "twa"\nunit = "ppm"\n'
                      'zone = "zone-a"\nabove = 0.3\n')
    server.feed("co-a", "co", "ppm", [500.0], start=T0 - 60_000, interval_s=60)  # before the shift: fallback
    [before] = server.alerts()
    assert before["detail"].startswith("no rostered shift") and before["trigger_value"] == pytest.approx(
        500 * 60 / 28_800)
    server.post(f"/api/v1/alerts/{before['id']}/resolve", {"reason": "test"})
    server.feed("co-a", "co", "ppm", [80.0, 80.0], start=T0 + 60_000, step_ms=60_000, interval_s=60)
    alert = server.alerts(state="open")[0]
    assert alert["trigger_value"] == pytest.approx(2 * 80 * 60 / 28_800)
    assert alert["detail"].startswith("shift from the roster: 2025-11-29T10:00Z")


def test_worker_dose_uses_the_workers_rostered_shift(server):
    """A worker rule's projected TWA uses the worker's rostered shift: 80 ppm over 12 h -> 80 x 12 / 8 = 120 ppm."""
    server.feed("badge-1", "co", "ppm", [0], start=T0 - 3 * HOUR)
    with server.session() as s:
        e100 = add_worker(s, "E100")
        wear(s, e100, "badge-1", T0, T0 + 12 * HOUR)
        roster(s, e100, add_zone(s, "zone-a"), T0, T0 + 12 * HOUR)
        s.commit()
    put_rules(server, '[[rules]]\nid = "co-proj-w"\nquantity = "co"\nmetric = "projected_twa"\nunit = "ppm"\n'
                      'workers = "E*"\nabove = 100.0\n')
    server.feed("badge-1", "co", "ppm", [80.0], start=T0 + 60_000, interval_s=60)
    [alert] = server.alerts()
    assert alert["worker"] == "E100" and alert["trigger_value"] == pytest.approx(120.0)
    assert alert["detail"] == "shift from the roster: 2025-11-29T10:00Z to 2025-11-29T22:00Z (12 h)"

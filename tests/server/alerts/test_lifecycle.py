"""Alert rules and the alert lifecycle, through the real ingest path on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from server.accounts.models import AuditEntry

RULES_H2S = """
[[rules]]
id = "h2s"
quantity = "h2s"
unit = "ppm"
min_duration_s = {min_duration}
clear_hold_s = {clear_hold}
levels = [
  {{ severity = "warning", above = 10.0, clear_at = 8.0 }},
  {{ severity = "critical", above = 20.0, clear_at = 18.0 }},
  {{ severity = "emergency", limit = "idlh" }},
]
profile = "us-niosh"
"""


def put_rules(server, text: str) -> None:
    r = server.client.put("/api/v1/rules", content=text, headers={
        "Authorization": f"Bearer {server.manager}", "Content-Type": "text/plain"})
    assert r.status_code == 200, r.text


def actions(server, alert_id: int) -> list[str]:
    with server.session() as s:
        return list(s.execute(select(AuditEntry.action).where(AuditEntry.target == f"alert:{alert_id}")
                              .order_by(AuditEntry.id)).scalars())


def test_one_alert_per_episode_and_severity_rises_within_it(server):
    """Low alarm then high alarm then IDLH: one alert whose severity rises step by step, each step audited."""
    server.feed("tank-h2s", "h2s", "ppm", [5, 12, 12, 25, 30, 120])
    [alert] = server.alerts()
    assert alert["severity"] == "emergency" and alert["step"] == 2 and alert["state"] == "open"
    assert alert["trigger_value"] == 12 and alert["worst_value"] == 120
    assert actions(server, alert["id"]) == ["alert_opened", "alert_escalated", "alert_escalated"]


def test_minimum_duration_counts_reading_time_not_the_wall_clock(server):
    """A level holds only after its condition held for min_duration_s of reading timestamps."""
    put_rules(server, RULES_H2S.format(min_duration=10, clear_hold=0))
    server.feed("s1", "h2s", "ppm", [15] * 6 + [2])  # 5 s above, then back
    assert server.alerts() == []
    server.feed("s1", "h2s", "ppm", [15] * 12)  # 11 s above
    [alert] = server.alerts()
    assert alert["severity"] == "warning"


def test_hysteresis_keeps_the_alert_until_its_clear_condition_held(server):
    """Between the threshold and clear_at the alert stays open; it resolves itself once clear for clear_hold_s."""
    put_rules(server, RULES_H2S.format(min_duration=0, clear_hold=60))
    server.feed("s1", "h2s", "ppm", [12, 9, 11, 9, 9])
    [alert] = server.alerts()
    assert alert["state"] == "open"
    server.feed("s1", "h2s", "ppm", [5] * 30, step_ms=1000)
    assert server.alerts()[0]["state"] == "open"  # clear for 29 s only
    server.feed("s1", "h2s", "ppm", [5] * 40, step_ms=1000)
    [alert] = server.alerts()
    assert alert["state"] == "resolved" and alert["resolved_by"] == "system"
    assert len(server.alerts()) == 1  # flapping around 10 ppm never opened a second alert


def test_unreliable_readings_neither_open_nor_clear(server):
    """sensor_fault / warmup / out_of_range readings are stored but never open or clear an alert."""
    put_rules(server, RULES_H2S.format(min_duration=0, clear_hold=0))
    server.feed("s1", "h2s", "ppm", [50, 50], flags=("sensor_fault",))
    server.feed("s1", "h2s", "ppm", [50], flags=("out_of_range",))
    assert server.alerts() == []
    server.feed("s1", "h2s", "ppm", [15])
    server.feed("s1", "h2s", "ppm", [0, 0], flags=("warmup",))
    assert server.alerts()[0]["state"] == "open"
    server.feed("s1", "h2s", "ppm", [0])
    assert server.alerts()[0]["state"] == "resolved"


def test_late_readings_are_evaluated_but_mark_the_alert_late(server):
    """Readings that arrive long after their timestamp open an alert marked late (not paged as live)."""
    server.clock.now += 3_600_000
    server.feed("s1", "h2s", "ppm", [25, 25], start=server.clock.now - 3_000_000)
    [alert] = server.alerts()
    assert alert["late"] is True and alert["severity"] == "critical"


def test_acknowledge_records_who_when_and_note(server):
    """open -> acknowledged with the user, the time and a note; auditors may read but not acknowledge."""
    server.feed("s1", "h2s", "ppm", [25])
    alert_id = server.alerts()[0]["id"]
    server.post(f"/api/v1/alerts/{alert_id}/acknowledge", {"note": "on my way"}, token=server.viewer, expect=403)
    out = server.post(f"/api/v1/alerts/{alert_id}/acknowledge", {"note": "on my way"})
    assert out["state"] == "acknowledged" and out["acknowledged_by"] == "maria"
    assert out["acknowledged_ms"] == server.clock.now and out["ack_note"] == "on my way"
    server.post(f"/api/v1/alerts/{alert_id}/acknowledge", {}, expect=409)
    detail = server.get(f"/api/v1/alerts/{alert_id}", token=server.viewer)
    assert [a["action"] for a in detail["audit"]] == ["alert_opened", "alert_acknowledged"]
    assert detail["audit"][1]["actor"] == "maria"


def test_a_rise_after_acknowledgement_needs_a_new_acknowledgement(server):
    """An acknowledged alert whose severity rises is open again, in the same episode."""
    server.feed("s1", "h2s", "ppm", [12])
    alert_id = server.alerts()[0]["id"]
    server.post(f"/api/v1/alerts/{alert_id}/acknowledge", {})
    server.feed("s1", "h2s", "ppm", [22])
    [alert] = server.alerts()
    assert alert["id"] == alert_id and alert["state"] == "open" and alert["severity"] == "critical"


def test_resolve_by_hand_needs_a_reason(server):
    """Resolving by hand takes a reason, is audited, and a condition that still holds opens a new episode."""
    server.feed("s1", "h2s", "ppm", [25])
    alert_id = server.alerts()[0]["id"]
    r = server.client.post(f"/api/v1/alerts/{alert_id}/resolve", json={},
                           headers={"Authorization": f"Bearer {server.manager}"})
    assert r.status_code == 422
    out = server.post(f"/api/v1/alerts/{alert_id}/resolve", {"reason": "sensor bumped during calibration"})
    assert out["state"] == "resolved" and out["resolved_by"] == "maria"
    assert out["resolve_reason"] == "sensor bumped during calibration"
    server.post(f"/api/v1/alerts/{alert_id}/resolve", {"reason": "again"}, expect=409)
    assert actions(server, alert_id) == ["alert_opened", "alert_resolved"]
    server.feed("s1", "h2s", "ppm", [25])
    assert len(server.alerts(state="active")) == 1 and len(server.alerts()) == 2


def test_alert_list_filters(server):
    """The list filters by state, severity, sensor and rule."""
    server.feed("a", "h2s", "ppm", [12])
    server.feed("b", "h2s", "ppm", [25])
    server.feed("c", "o2", "%vol", [18.0])
    assert {a["sensor"] for a in server.alerts(severity="critical")} == {"b", "c"}
    assert [a["sensor"] for a in server.alerts(sensor="a")] == ["a"]
    assert [a["sensor"] for a in server.alerts(rule="o2-deficient")] == ["c"]
    first = server.alerts(sensor="a")[0]["id"]
    server.post(f"/api/v1/alerts/{first}/acknowledge", {})
    assert [a["sensor"] for a in server.alerts(state="acknowledged")] == ["a"]
    assert {a["sensor"] for a in server.alerts(state="open")} == {"b", "c"}


def test_oxygen_deficiency_alarms_below_19_5(server):
    """O2 below 19.5 % vol opens a critical alert; above 23.5 another rule does."""
    server.feed("o2-1", "o2", "%vol", [20.9, 19.4])
    server.feed("o2-2", "o2", "%vol", [23.6])
    assert {(a["sensor"], a["rule"], a["severity"]) for a in server.alerts()} == {
        ("o2-1", "o2-deficient", "critical"), ("o2-2", "o2-enriched", "critical")}


def test_stel_rule_uses_the_15_minute_average(server):
    """A short peak averaged over 15 min stays under the STEL; a sustained level above it alarms."""
    server.feed("nh3-1", "nh3", "ppm", [60] * 30, step_ms=10_000)  # 5 min at 60 ppm: 20 ppm over 15 min
    server.feed("nh3-1", "nh3", "ppm", [5] * 60, step_ms=10_000)
    assert server.alerts() == []
    server.feed("nh3-1", "nh3", "ppm", [50] * 100, step_ms=10_000)  # > 35 ppm for 15 min
    [alert] = server.alerts()
    assert alert["rule"] == "nh3-stel" and alert["metric"] == "stel" and alert["severity"] == "critical"


def test_projected_noise_dose_rises_from_action_level_to_limit(server):
    """95 dB(A) projects to 200 % of the OSHA dose: action level first, then the limit, in one episode."""
    server.feed("press-2", "laeq", "dB(A)", [95.0] * 120, step_ms=1000, interval_s=1.0)
    [alert] = server.alerts()
    assert alert["rule"] == "noise-dose" and alert["severity"] == "critical" and alert["worst_value"] > 150


def test_noise_peak_alarms_at_140_db_c(server):
    """An LCpeak of 140 dB(C) or more opens a critical alert."""
    server.feed("press-2", "lcpeak", "dB(C)", [120, 141])
    assert server.alerts()[0]["rule"] == "noise-peak"


def test_rule_levels_come_from_the_catalogue_with_their_source(server):
    """A level given as a catalogue limit resolves to its value and names the document."""
    rules = {r["id"]: r for r in server.get("/api/v1/rules", token=server.viewer)}
    emergency = rules["h2s"]["levels"][-1]
    assert emergency["threshold"] == 100.0 and "IDLH" in emergency["limit_source"]


def test_rules_api_rejects_an_invalid_rule(server):
    """A rule with levels in the wrong order is refused with the reason; the rules in force stay."""
    bad = '[[rules]]\nid = "x"\nquantity = "co"\nunit = "ppm"\nlevels = [{severity="warning", above=50.0}, ' \
          '{severity="critical", above=20.0}]\n'
    r = server.client.put("/api/v1/rules", content=bad, headers={
        "Authorization": f"Bearer {server.manager}", "Content-Type": "text/plain"})
    assert r.status_code == 422 and "beyond" in r.text
    assert any(x["id"] == "h2s" for x in server.get("/api/v1/rules"))


def test_zone_rule_applies_to_the_sensors_of_the_zone(server):
    """A rule naming a zone watches the sensors server.health maps to that zone, and labels the alert."""
    from server.org.models import Zone, ZoneSensor
    from server.series.models import Sensor

    server.feed("in-zone", "co", "ppm", [1])
    server.feed("elsewhere", "co", "ppm", [1])
    with server.session() as s:
        zone = Zone(code="tank-farm", name="Tank farm", site="plant-a")
        s.add(zone)
        s.flush()
        sid = s.execute(select(Sensor.id).where(Sensor.name == "in-zone")).scalar_one()
        s.add(ZoneSensor(zone_id=zone.id, sensor_id=sid, start_ms=0))
        s.commit()
    put_rules(server, '[[rules]]\nid = "co-zone"\nquantity = "co"\nunit = "ppm"\nzone = "tank-farm"\nabove = 5.0\n')
    server.feed("in-zone", "co", "ppm", [9])
    server.feed("elsewhere", "co", "ppm", [9])
    [alert] = server.alerts()
    assert alert["sensor"] == "in-zone" and alert["zone"] == "tank-farm"


def test_alert_and_incident_pages_are_served_and_linked(server):
    """/alerts and /incident serve their shells (they load authenticated partials); the pages link them."""
    for path, marker in (("/alerts", "/web/partials/alerts"), ("/incident", "/web/partials/incidents")):
        page = server.client.get(path)
        assert page.status_code == 200 and marker in page.text
    assert 'href="/alerts"' in server.client.get("/").text and 'href="/live"' in server.client.get("/").text
    assert server.client.get("/api/v1/alerts").status_code == 401


def test_level_timers_hold_before_opening_and_before_clearing() -> None:
    """The pure level timers: a level is active only after its condition held for min_duration_s, and the clear
    condition must hold for clear_hold_s; a value between clear and threshold restarts neither."""
    from server.alerts.episodes import advance_levels
    from server.alerts.rule_file import parse_rules

    (rule,) = parse_rules('[[rules]]\nid = "h2s"\nquantity = "h2s"\nunit = "ppm"\nmin_duration_s = 10\n'
                          'clear_hold_s = 5\nlevels = [{severity = "warning", above = 10, clear_at = 8}]\n').rules
    st: dict = {}
    assert advance_levels(st, rule, 12.0, 0) == (-1, False)
    assert advance_levels(st, rule, 12.0, 9_999) == (-1, False)
    assert advance_levels(st, rule, 12.0, 10_000) == (0, False)
    assert advance_levels(st, rule, 9.0, 11_000) == (-1, False)  # below the threshold, not yet clear
    assert advance_levels(st, rule, 7.0, 12_000) == (-1, False)
    assert advance_levels(st, rule, 7.0, 17_000) == (-1, True)

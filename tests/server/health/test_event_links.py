"""Issue 7 points 3 and 4: alerts and incidents in a zone linked to the workers present (stored when they open),
with their evidence (series, acknowledgement history once per transition, incident timeline, checklist, own muster
answer, drill); emergency exams scheduled by real incidents; the US audiometry rules with their marks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from exposure import Reading
from server.accounts.models import AuditEntry
from server.alerts.engine import evaluate_thresholds
from server.alerts.lifecycle import acknowledge, resolve
from server.alerts.models import Alert
from server.emergency.models import Incident, MusterEntry
from server.events import IncidentOpened, MusterPerson
from server.health.links import link_incident, schedule_emergency_exams
from server.health.models import EventLink, Exam, ExposureRecord
from server.health.surveillance import load_rules, parse_rules
from server.org.models import Assignment, Zone
from server.series.models import Sensor
from server.settings import Settings

from .conftest import DAY, Env, at, make_plan_env, two_zone_plant, worker_of


def _co_alert(env: Env, value: float = 80.0, ts: int = at(9), sensor: str = "a-co") -> Alert:
    """Feed one CO reading through the alert evaluator (default rules: critical above 70 ppm)."""
    with env.session() as s:
        sid = s.execute(select(Sensor.id).where(Sensor.name == sensor)).scalar_one()
        evaluate_thresholds(s, (Reading(sensor=sensor, quantity="co", value=value, unit="ppm", ts=ts),),
                            {sensor: sid}, env.app.state.services.alerting)
        s.commit()
        return s.execute(select(Alert).order_by(Alert.id.desc())).scalars().first()


def _plant_with_three(env: Env) -> dict[str, int]:
    """W1 in A 07-11 then B (two_zone_plant), W2 in B all day, W3 (on the plan's roster for A) not rostered."""
    ids = {"W1": two_zone_plant(env), "W2": env.worker("W2"), "W3": env.worker("W3")}
    env.ok("POST", "/assignments", json={"worker_id": ids["W2"], "zone": "B", "start_ms": at(7), "end_ms": at(15)})
    return ids


def _start(env: Env, *, drill: bool = False) -> dict:
    return env.ok("POST", "/incidents", role="safety_manager",
                  json={"plan": "toxic-release", "site": "plant-a", "zone": "A", "drill": drill})


def _events(env: Env, wid: int, role: str = "record_keeper") -> list[dict]:
    return env.ok("GET", f"/workers/{wid}/events", role=role)


def _incidents(env: Env, wid: int, role: str = "record_keeper") -> list[dict]:
    return [e for e in _events(env, wid, role) if e["kind"] == "incident"]


def _emergency_exams(env: Env) -> list[Exam]:
    with env.session() as s:
        return list(s.execute(select(Exam).where(Exam.exam_type == "emergency").order_by(Exam.worker_id)).scalars())


def test_incident_links_rostered_workers_and_the_muster_list(plan_env: Env) -> None:
    """An incident in zone A at 09:00 is in the file of W1 (assigned to A then) and of W3 (on its muster list),
    with its checklist, muster count and own muster answer; W2 (in zone B) is not linked."""
    env = plan_env
    ids = _plant_with_three(env)
    env.clock.now = at(9)
    inc = _start(env)
    (e1,) = _incidents(env, ids["W1"])
    assert e1["incident_id"] == inc["id"] and (e1["zone"], e1["drill"], e1["stored"]) == ("A", False, True)
    assert e1["via"] == "muster+zone"  # rostered in A, so on the muster list too
    assert (e1["present_from_ms"], e1["present_until_ms"]) == (at(7), at(11))
    ev = e1["incident"]
    assert [(s["idx"], s["owner"], s["done_ms"]) for s in ev["steps"]] == [(1, "zone supervisor", None),
                                                                          (2, "control room", None)]
    assert ev["muster_count"] == {"expected": 2, "safe": 0, "missing": 2}
    assert ev["own_muster"] == {"person_id": "W1", "safe_ms": None, "via": "", "marked_by": ""}
    assert [h["action"] for h in e1["history"]] == ["opened", "notified"]
    (e3,) = _incidents(env, ids["W3"])
    assert e3["via"] == "muster" and e3["incident"]["own_muster"]["person_id"] == "W3"
    assert _events(env, ids["W2"]) == []
    assert env.ok("GET", f"/workers/{ids['W1']}/file")["events"][0]["incident_id"] == inc["id"]


def test_incident_evidence_follows_the_checklist_and_own_muster_answer(plan_env: Env) -> None:
    """A done step and W1's own "I am safe" show in W1's file; another person's answer shows only in the count,
    never by name."""
    env = plan_env
    ids = _plant_with_three(env)
    env.clock.now = at(9)
    inc = _start(env)
    env.clock.now = at(9.1)
    env.ok("POST", f"/incidents/{inc['id']}/steps/1/complete", role="safety_manager", json={"note": "all out"})
    env.ok("POST", f"/incidents/{inc['id']}/muster/W1", role="safety_manager")
    env.clock.now = at(9.2)
    env.ok("POST", f"/incidents/{inc['id']}/muster/W3", role="safety_manager")
    (e1,) = _incidents(env, ids["W1"], role="worker")
    ev = e1["incident"]
    assert [s["done_ms"] for s in ev["steps"]] == [at(9.1), None]
    assert ev["own_muster"] == {"person_id": "W1", "safe_ms": at(9.1), "via": "staff", "marked_by": "safety_manager"}
    assert ev["muster_count"] == {"expected": 2, "safe": 2, "missing": 0}
    assert [h["action"] for h in e1["history"]] == ["opened", "notified", "step", "muster"]
    assert "Fitter on call" not in str(e1) and "W3" not in str(e1["history"])


def test_incident_links_are_stable_when_the_roster_is_edited_later(plan_env: Env) -> None:
    """After the incident and an alert, W1's assignment is moved to zone B: both stay in W1's file and do not
    appear in the file of a worker added to zone A afterwards."""
    env = plan_env
    ids = _plant_with_three(env)
    env.clock.now = at(9)
    inc = _start(env)
    al = _co_alert(env, value=40.0)  # a warning: no plan starts
    with env.session() as s:
        b = s.execute(select(Zone.id).where(Zone.code == "B")).scalar_one()
        for a in s.execute(select(Assignment).where(Assignment.worker_id == ids["W1"])).scalars():
            a.zone_id = b
        s.commit()
    late = env.worker("W4")
    env.ok("POST", "/assignments", json={"worker_id": late, "zone": "A", "start_ms": at(7), "end_ms": at(15)})
    got = {(e["kind"], e["incident_id"] or e["alert_id"]) for e in _events(env, ids["W1"])}
    assert got == {("incident", inc["id"]), ("alert", al.id)}
    assert _events(env, late) == []


def test_alert_links_are_stored_when_it_opens_and_widened_when_it_resolves(plan_env: Env) -> None:
    """A CO alert opened at 09:00 on zone A's sensor stores W1's link then (zone A, from 09:00); on resolution at
    12:00 the link of W2, who was never in A, is still absent and W1's presence ends with the A assignment."""
    env = plan_env
    ids = _plant_with_three(env)
    env.clock.now = at(9)
    al = _co_alert(env, value=40.0)
    with env.session() as s:
        links = s.execute(select(EventLink).where(EventLink.kind == "alert")).scalars().all()
        assert [(ln.worker_id, ln.via, ln.zone, ln.present_from_ms) for ln in links] == [(ids["W1"], "zone", "A",
                                                                                          at(9))]
        resolve(s, env.app.state.services.alerting, al.id, user="safety_manager", reason="fans on", now_ms=at(12))
        s.commit()
    (ev,) = _events(env, ids["W1"])
    assert (ev["alert_id"], ev["stored"], ev["present_from_ms"], ev["present_until_ms"]) == (al.id, True, at(9),
                                                                                           at(11))
    assert _events(env, ids["W2"]) == []


def test_alert_history_shows_each_transition_once(plan_env: Env) -> None:
    """Opened, acknowledged (with its note), escalated, acknowledged again, resolved: each appears exactly once,
    from the alert's audit entries, although the alert's columns also hold the last acknowledgement."""
    env = plan_env
    ids = _plant_with_three(env)
    env.clock.now = at(9)
    al = _co_alert(env, value=40.0)
    with env.session() as s:
        acknowledge(s, env.app.state.services.alerting, al.id, user="safety_manager", note="checking", now_ms=at(9.05))
        s.commit()
    _co_alert(env, value=80.0, ts=at(9.1))  # critical: escalation, a new acknowledgement is needed
    with env.session() as s:
        acknowledge(s, env.app.state.services.alerting, al.id, user="admin", note="evacuating", now_ms=at(9.15))
        resolve(s, env.app.state.services.alerting, al.id, user="admin", reason="clear", now_ms=at(9.5))
        s.commit()
    (ev,) = [e for e in _events(env, ids["W1"]) if e["kind"] == "alert"]
    assert [(h["action"], h["actor"]) for h in ev["history"]] == [
        ("opened", "system"), ("acknowledged", "safety_manager"), ("escalated", "system"),
        ("acknowledged", "admin"), ("resolved", "admin")]
    assert "note=checking" in ev["history"][1]["detail"]
    assert [h["ts_ms"] for h in ev["history"]] == [at(9), at(9.05), at(9.1), at(9.15), at(9.5)]


def test_alert_started_incident_links_workers_and_shows_the_series(plan_env: Env) -> None:
    """A critical CO alert in zone A starts the plan; the incident in W1's file names the alert and carries the
    series of its sensor around the event."""
    env = plan_env
    ids = _plant_with_three(env)
    env.clock.now = at(9)
    al = _co_alert(env, value=80.0)
    (ev,) = _incidents(env, ids["W1"])
    assert ev["incident"]["alert_id"] == al.id and ev["severity"] == "critical" and ev["quantity"] == "co"
    assert ev["series"] and all(at(8.8) <= t <= at(9.2) for t, _, _ in ev["series"])


def test_real_incident_schedules_one_emergency_exam_per_linked_worker(plan_env: Env) -> None:
    """Each linked worker (W1 by roster, W3 by muster) gets an emergency exam due the next day, in the due list,
    audited without health data; a further trigger or a second run adds no duplicate."""
    env = plan_env
    ids = _plant_with_three(env)
    env.clock.now = at(9)
    inc = _start(env)
    _co_alert(env, value=80.0)  # joins the open incident as a further trigger
    exams = _emergency_exams(env)
    assert [(e.worker_id, e.status, e.due_date, e.hazard) for e in exams] == [
        (ids["W1"], "scheduled", DAY + dt.timedelta(days=1), None), (ids["W3"], "scheduled",
                                                                    DAY + dt.timedelta(days=1), None)]
    assert all(f"incident {inc['id']}" in e.reason and "incident-emergency-exam" in e.reason for e in exams)
    due = env.ok("GET", "/surveillance/due?horizon_days=30")
    assert sorted((d["worker_id"], d["due_date"]) for d in due if d["exam_type"] == "emergency") == [
        (ids["W1"], "2025-03-04"), (ids["W3"], "2025-03-04")]
    with env.session() as s:
        entries = s.execute(select(AuditEntry).where(AuditEntry.action == "health.exams.schedule")).scalars().all()
        assert sorted(e.target for e in entries) == sorted(f"worker:{ids[w]}" for w in ("W1", "W3"))
        assert all(f"incident:{inc['id']}" in e.detail and "Test Worker" not in e.detail for e in entries)
        incident = _opened_again(s, inc["id"])
        links = link_incident(s, incident, now_ms=at(10))
        assert sorted(ln.via for ln in links) == ["muster", "muster+zone"]  # linking again changes nothing
        assert schedule_emergency_exams(s, incident, links, env.app.state.services.health, now_ms=at(10)) == 0
        s.commit()
    assert len(_emergency_exams(env)) == 2


def _opened_again(s: Session, incident_id: int) -> IncidentOpened:
    """The `IncidentOpened` event of a stored incident, as emergency published it."""
    i = s.get(Incident, incident_id)
    people = s.execute(select(MusterEntry).where(MusterEntry.incident_id == incident_id)).scalars()
    return IncidentOpened(incident_id=i.id, plan_id=i.plan_id, title=i.title, site=i.site, zone=i.zone, drill=i.drill,
                          trigger=i.trigger, opened_ms=i.opened_ms, alert_id=i.alert_id, team_group="", steps=(),
                          people=tuple(MusterPerson(m.person_id, m.name, m.contact, "") for m in people))


def test_a_drill_is_marked_as_drill_and_schedules_no_exam(plan_env: Env) -> None:
    """A drill is linked like an incident, marked drill in the file (its timeline says [DRILL]), and no
    emergency exam is scheduled."""
    env = plan_env
    ids = _plant_with_three(env)
    env.clock.now = at(9)
    _start(env, drill=True)
    (ev,) = _incidents(env, ids["W1"])
    assert ev["drill"] is True and ev["incident"]["drill"] is True
    assert all(h["detail"].startswith("[DRILL]") for h in ev["history"])
    assert _emergency_exams(env) == []


def test_emergency_rules_choose_plans_and_severities(database_url: str, tmp_path) -> None:
    """A site's rules (HAZMON_HEALTH_SURVEILLANCE_RULES, read by health's incident subscriber) that cover only
    another plan schedule nothing; the rule parser checks severities and plans."""
    rules = tmp_path / "rules.toml"
    rules.write_text('[[emergency]]\nid = "gas-only"\nplans = ["gas-*"]\nwithin_days = 2\n')
    with make_plan_env(database_url, tmp_path, health_surveillance_rules=rules) as env:
        ids = _plant_with_three(env)
        env.clock.now = at(9)
        _start(env)
        assert _emergency_exams(env) == []
        assert len(_incidents(env, ids["W1"])) == 1
    parsed = parse_rules('[[emergency]]\nid = "x"\nmin_severity = "critical"\nmanual = false\n')
    (rule,) = parsed.emergency
    assert (rule.matches("cn", "any", "emergency"), rule.matches("cn", "any", "warning"),
            rule.matches("cn", "any", None)) == (True, False, False)
    try:
        parse_rules('[[emergency]]\nid = "x"\nmin_severity = "severe"\n')
    except ValueError as exc:
        assert "min_severity" in str(exc)
    else:
        raise AssertionError("an unknown severity must be refused")


def test_incident_events_follow_the_access_rules_and_are_audited(plan_env: Env) -> None:
    """The worker reads the incident in their own file, another worker account gets 403, a safety manager sees
    the event but no exam, and each read is audited with the incident id."""
    env = plan_env
    ids = _plant_with_three(env)
    env.clock.now = at(9)
    inc = _start(env)
    assert len(_incidents(env, ids["W1"], role="worker")) == 1
    assert env.call("worker2", "GET", f"/workers/{ids['W1']}/events").status_code == 403
    assert env.call("facilities", "GET", f"/workers/{ids['W1']}/events").status_code == 403
    assert env.call("anonymous", "GET", f"/workers/{ids['W1']}/events").status_code == 401
    (ev,) = _incidents(env, ids["W1"], role="safety_manager")
    assert "exam" not in str(ev).lower()
    with env.session() as s:
        reads = s.execute(select(AuditEntry).where(AuditEntry.action == "health.events.read")).scalars().all()
        denied = s.execute(select(AuditEntry).where(AuditEntry.action == "health.events.read.denied")).scalars().all()
    assert [r.actor for r in reads] == ["user:worker", "user:safety_manager"]
    assert all(f"incidents={inc['id']}" in r.detail for r in reads)
    assert sorted(d.actor for d in denied) == ["user:facilities", "user:worker2"]


def test_osha_audiometry_baseline_within_six_months_then_annual(osha_env: Env) -> None:
    """us-osha profile, 88 dBA shifts: the first audiogram is due 6 months after the first shift at or above the
    85 dBA TWA action level (marked unverified), then 12 months after the last exam (marked secondary)."""
    env = osha_env
    n = env.sensor("press-noise")
    env.readings(n, "laeq", "dB(A)", [(t, 88.0) for t in range(at(7) + 1000, at(15) + 1000, 1000)], interval_s=1.0)
    env.zone("P", ["press-noise"], ["noise"])
    wid = env.worker("N1")
    env.roster("employee_no,date,shift,zone,post,start,end\nN1,2025-03-03,day,P,,,\n")
    env.compute()
    with env.session() as s:
        rec = s.execute(select(ExposureRecord)).scalar_one()
    (line,) = [d for d in env.ok("GET", "/surveillance/due?horizon_days=3650") if d["exam_type"] == "periodic"]
    assert (line["hazard"], line["due_date"]) == ("noise", "2025-09-03")
    assert "osha-1910.95-audiometry" in line["basis"] and "unverified" in line["basis"]
    env.ok("POST", f"/workers/{wid}/exams", json={"exam_type": "periodic", "hazard": "noise", "status": "done",
                                                 "exam_date": "2025-03-10"})
    (line,) = [d for d in env.ok("GET", "/surveillance/due?horizon_days=3650") if d["exam_type"] == "periodic"]
    assert line["due_date"] == "2026-03-10" and "secondary" in line["basis"] and "unverified" not in line["basis"]
    assert rec.lex_8h is not None and abs(rec.lex_8h - 88.0) < 0.05


def test_osha_audiometry_is_not_due_below_the_action_level(osha_env: Env) -> None:
    """us-osha profile, 84 dBA shifts: below the 85 dBA action level no periodic audiogram is due."""
    env = osha_env
    n = env.sensor("press-noise")
    env.readings(n, "laeq", "dB(A)", [(t, 84.0) for t in range(at(7) + 1000, at(15) + 1000, 1000)], interval_s=1.0)
    env.zone("P", ["press-noise"], ["noise"])
    env.worker("N1")
    env.roster("employee_no,date,shift,zone,post,start,end\nN1,2025-03-03,day,P,,,\n")
    env.compute()
    due = env.ok("GET", "/surveillance/due?horizon_days=3650")
    assert [d for d in due if d["exam_type"] == "periodic"] == []
    assert worker_of(env, "N1").employee_no == "N1"


def test_us_rules_ship_with_their_verification_marks() -> None:
    """The built-in US rule: OSHA 1910.95 audiometry at the 85 dBA TWA action level, annual (secondary), baseline
    within 6 months (unverified: not in the standards notes); GBZ 188 rules stay for cn."""
    rules = load_rules(Settings().health)
    (us,) = [r for r in rules.intervals if r.jurisdiction == "us"]
    assert (us.hazard, us.metric, us.at_least, us.months, us.mark) == ("noise", "osha_hc_twa", 85.0, 12,
                                                                       "secondary")
    assert (us.first_within_months, us.first_mark) == (6, "unverified") and "1910.95(g)(5)" in us.first_source
    assert {r.id for r in rules.intervals if r.jurisdiction == "cn"} >= {"gbz188-noise-85", "gbz188-noise-80"}
    (em,) = rules.emergency
    assert (em.exam_type, em.within_days, em.min_severity, em.manual) == ("emergency", 1, "critical", True)

"""Exposure records: presence-weighted metrics from the exposure engine, coverage and gaps, flagged readings,
personal sensors, versions on late data, and computation when the shift ends."""

from __future__ import annotations

import pytest

from server.health.scheduler import compute_due_records
from server.health.shift_runs import mark_stale

from .conftest import T0, Env, at, two_zone_plant


def _co(env: Env, wid: int, **params: object) -> list[dict]:
    rows = env.ok("GET", f"/workers/{wid}/exposure-records", params=params)
    return [r for r in rows if r["substance"] == "co"]


def test_worker_moving_between_two_zones_gets_the_hand_computed_twa(env: Env) -> None:
    """4 h in zone A at 10 ppm then 4 h in zone B at 20 ppm: TWA = (10x4 + 20x4)/8 = 15 ppm, full coverage."""
    wid = two_zone_plant(env)
    assert env.compute() == {"shifts": 1, "records": 1, "follow_ups": 0, "failed": 0}
    (rec,) = _co(env, wid)
    assert rec["twa"] == pytest.approx(15.0)
    assert rec["coverage"] == pytest.approx(1.0)
    assert rec["gaps"] == []
    assert rec["source"] == "zone" and rec["presence_s"] == 8 * 3600
    assert rec["shift_start_ms"] == T0 and rec["shift_end_ms"] == at(15)
    assert rec["limit"]["source"].startswith("GBZ 2.1-2019")
    assert rec["ratio"] == pytest.approx(15.0 / rec["limit"]["value"])
    assert rec["stel_max"] == pytest.approx(20.0) and rec["peak"] == pytest.approx(20.0)
    assert {s["sensor"] for s in rec["sensors"]} == {"plant-a/a-co", "plant-a/b-co"}
    assert rec["verdict"] == "within" and rec["version"] == 1


def test_a_gap_in_one_zone_lowers_coverage_never_the_exposure(env: Env) -> None:
    """Zone B has no data 12:00-13:00: TWA stays 15 ppm, coverage is 7/8, the gap is listed."""
    wid = two_zone_plant(env, gap_b=(at(12), at(13)))
    env.compute()
    (rec,) = _co(env, wid)
    assert rec["twa"] == pytest.approx(15.0)
    assert rec["coverage"] == pytest.approx(7 / 8, abs=1e-3)
    gaps = [g for g in rec["gaps"] if g["reason"] == "no_data"]
    assert len(gaps) == 1 and gaps[0]["start_ms"] == at(12) and gaps[0]["end_ms"] == at(13)
    assert rec["details"]["measured_twa"] < rec["twa"]
    assert rec["verdict"] == "incomplete"


def test_flagged_readings_are_excluded_and_counted(env: Env) -> None:
    """Readings flagged calibration_overdue never enter the TWA; they are counted and the sensor says overdue."""
    wid = two_zone_plant(env, gap_b=(at(12), at(12.5)))
    b = 2  # b-co
    env.steady(b, "co", "ppm", 500.0, at(12), at(12.5), flags="calibration_overdue")
    env.compute()
    (rec,) = _co(env, wid)
    assert rec["twa"] == pytest.approx(15.0)
    assert rec["flagged_excluded"] == 30
    assert any(g["reason"] == "flagged" for g in rec["gaps"])
    sensor_b = next(s for s in rec["sensors"] if s["sensor"] == "plant-a/b-co")
    assert sensor_b["calibration"] == "overdue" and sensor_b["flags"] == {"calibration_overdue": 30}
    assert rec["peak"] == pytest.approx(20.0)


def test_late_data_recomputes_a_new_version_and_keeps_the_old(env: Env) -> None:
    """Late readings filling the gap: mark_stale + the scheduler give version 2 (full coverage); version 1 stays."""
    wid = two_zone_plant(env, gap_b=(at(12), at(13)))
    env.compute()
    env.steady(2, "co", "ppm", 20.0, at(12), at(13))
    with env.session() as s:
        assert mark_stale(s, [2], at(12), at(13), now_ms=env.clock.now) == 1
        s.commit()
        report = compute_due_records(s, env.clock.now, env.config)
    assert report.shifts == 1
    (current,) = _co(env, wid)
    assert current["version"] == 2 and current["coverage"] == pytest.approx(1.0)
    versions = _co(env, wid, include_superseded="true")
    assert [(r["version"], r["superseded"]) for r in versions] == [(1, True), (2, False)]
    assert versions[0]["coverage"] < 1.0


def test_a_worn_personal_sensor_stands_for_the_worker(env: Env) -> None:
    """A personal sensor worn 11-15 reads 30 ppm: TWA = (10x4 + 30x4)/8 = 20 ppm, source mixed."""
    wid = two_zone_plant(env)
    p = env.sensor("badge-7")
    env.steady(p, "co", "ppm", 30.0, at(10), at(16))
    env.ok("POST", "/personal-sensors", json={"worker_id": wid, "sensor": "badge-7", "start_ms": at(11),
                                               "end_ms": at(15)})
    env.compute()
    (rec,) = _co(env, wid)
    assert rec["twa"] == pytest.approx(20.0)
    assert rec["source"] == "mixed"
    assert {s["role"] for s in rec["sensors"]} == {"zone", "personal"}


def test_a_shift_is_computed_only_after_it_ends(env: Env) -> None:
    """Before the shift end plus the settle time nothing is computed; after it, exactly once."""
    two_zone_plant(env)
    with env.session() as s:
        assert compute_due_records(s, at(15), env.config).shifts == 0
        assert compute_due_records(s, at(15) + 300_000, env.config).shifts == 1
        assert compute_due_records(s, at(16), env.config).shifts == 0


def test_noise_record_gives_lex_dose_and_triggers_a_follow_up(env: Env) -> None:
    """88 dB(A) for the 8-h shift: LEX,8h 88 (GBZ 2.2 limit 85), class >=85, a follow-up exam scheduled."""
    n = env.sensor("press-noise")
    env.readings(n, "laeq", "dB(A)", [(t, 88.0) for t in range(at(6) + 1000, at(16), 1000)], interval_s=1.0)
    env.zone("P", ["press-noise"], ["noise"])
    wid = env.worker("N1")
    env.roster("employee_no,date,shift,zone,post,start,end\nN1,2025-03-03,day,P,,,\n")
    assert env.compute()["follow_ups"] == 1
    (rec,) = env.ok("GET", f"/workers/{wid}/exposure-records")
    assert rec["lex_8h"] == pytest.approx(88.0)
    assert rec["exposure_class"] == ">=85" and rec["verdict"] == "exceeds"
    assert rec["limit"]["value"] == 85 and rec["limit"]["source"].startswith("GBZ 2.2-2007")
    assert rec["ratio"] == pytest.approx(2.0) and rec["dose_criterion"] == "niosh"  # 3 dB exchange: 2x
    exams = env.ok("GET", f"/workers/{wid}/exams")
    assert [(e["exam_type"], e["hazard"], e["status"]) for e in exams] == [("follow_up", "noise", "scheduled")]


def test_late_batch_through_ingest_makes_a_new_version(env: Env) -> None:
    """A batch that arrives two days late through POST /api/v1/ingest marks the shift stale by itself: the
    scheduler computes version 2 with the late readings (full coverage) and keeps version 1."""
    from exposure import Batch, Reading
    from exposure.batch import encode_batch
    from server.ingest.agents import create_agent_token

    wid = two_zone_plant(env, gap_b=(at(12), at(13)))
    env.compute()
    with env.session() as s:
        token = create_agent_token(s, site="plant-a", agent="gw-1", now_ms=env.clock.now)
        s.commit()
    late = tuple(Reading("b-co", "co", 20.0, "ppm", t) for t in range(at(12), at(13), 60_000))
    r = env.client.post("/api/v1/ingest", content=encode_batch(Batch("plant-a", "gw-1", 1, env.clock.now, late)),
                        headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert env.compute()["shifts"] == 1
    versions = _co(env, wid, include_superseded="true")
    assert [(v["version"], v["superseded"]) for v in versions] == [(1, True), (2, False)]
    assert versions[0]["coverage"] < 1.0 and versions[1]["coverage"] == pytest.approx(1.0)


@pytest.mark.parametrize(("variant", "limit"), [("sio2-10-50pct", 0.7), ("sio2-50-80pct", 0.3)])
def test_a_silica_record_takes_the_free_sio2_class_from_the_hazard_declaration(env: Env, variant: str,
                                                                                limit: float) -> None:
    """GBZ 2.1-2019 respirable silica dust: PC-TWA by free-SiO2 class (10-50 %: 0.7, 50-80 %: 0.3 mg/m3); the
    zone's hazard declaration names the class, the record uses that limit."""
    s = env.sensor("silica")
    env.steady(s, "pm4", "mg/m3", 0.5, at(5), at(17))
    env.ok("POST", "/zones", json={"code": "Q", "name": "quarry", "site": "plant-a"})
    env.ok("POST", "/zones/Q/sensors", json={"sensor": "silica"})
    zone = env.ok("POST", "/zones/Q/hazards", json={"substance": "silica_crystalline", "quantity": "pm4",
                                                    "variant": variant})
    assert zone["hazards"][0]["variant"] == variant
    wid = env.worker("Q1")
    env.roster("employee_no,date,shift,zone,post,start,end\nQ1,2025-03-03,day,Q,,,\n")
    env.compute()
    (rec,) = env.ok("GET", f"/workers/{wid}/exposure-records")
    assert rec["limit"]["value"] == pytest.approx(limit) and rec["twa"] == pytest.approx(0.5)
    assert rec["verdict"] == ("exceeds" if limit < 0.5 else "within")


def test_an_unknown_limit_variant_is_refused_with_the_known_ones(env: Env) -> None:
    env.ok("POST", "/zones", json={"code": "Q", "name": "quarry", "site": "plant-a"})
    r = env.call("record_keeper", "POST", "/zones/Q/hazards", json={"substance": "silica_crystalline",
                                                                    "quantity": "pm4", "variant": "sio2-90pct"})
    assert r.status_code == 422 and "sio2-10-50pct" in r.json()["detail"]

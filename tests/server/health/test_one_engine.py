"""One engine: the same series gives the same figure from `hazmon calc`, the alert rules' shift metric and the
exposure record (issue 12 D1, D2). The series is 29 CFR 1910.95 App. A's kind of example: 100 dB(A) for 1 h,
then 90 dB(A) for 3 h: D = 100 x (1/2 + 3/8) = 87.5 % (within the PEL), where an equal-energy average of the
4 h (95.9 dB(A)) would give 101.7 % (exceeds)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from exposure.readings import Reading
from hazmon.calc_cli import calc_app
from server.alerts.metrics import shift_metric
from server.alerts.rules import Rule, RuleLevel

from .conftest import Env, at

SECOND = 1000


def _d2_points() -> list[tuple[int, float]]:
    """1-s LAeq readings (ts = end of the second) from 07:00: 100 dB(A) for an hour, then 90 dB(A) for three."""
    start = at(7)
    return [(start + i * SECOND, 100.0 if i <= 3600 else 90.0) for i in range(1, 4 * 3600 + 1)]


def _noise_zone(env: Env, points: list[tuple[int, float]], *, flags: str = "") -> int:
    n = env.sensor("press-noise")
    env.readings(n, "laeq", "dB(A)", points, interval_s=1.0, flags=flags)
    env.zone("P", ["press-noise"], ["noise"])
    wid = env.worker("N1")
    env.ok("POST", "/shift-patterns", json={"code": "day", "start": "07:00", "hours": 4})  # a 4-h shift
    report = env.roster("employee_no,date,shift,zone,post,start,end\nN1,2025-03-03,day,P,,07:00,11:00\n")
    assert report["imported"] == 1, report
    return wid


def test_d2_record_calc_and_alert_rule_agree_on_the_osha_dose(osha_env: Env) -> None:
    points = _d2_points()
    wid = _noise_zone(osha_env, points)
    osha_env.compute()
    (rec,) = osha_env.ok("GET", f"/workers/{wid}/exposure-records")
    assert rec["dose_criterion"] == "osha-pel"
    assert rec["dose_percent"] == pytest.approx(87.5, abs=1e-6)
    assert rec["verdict"] == "within" and rec["coverage"] == pytest.approx(1.0)
    # the calculator on the same data
    result = CliRunner().invoke(calc_app, ["noise", "--segment", "100:1h", "--segment", "90:3h",
                                      "--criterion", "osha-pel", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["dose_percent"] == pytest.approx(rec["dose_percent"], abs=1e-6)
    # the alert rules' shift dose, fed the same readings over the rostered shift
    rule = Rule(id="dose", quantity="laeq", metric="dose", unit="dB(A)", direction="above",
                levels=(RuleLevel("warning", 50.0, 45.0, "50 %"),), criterion="osha-pel")
    state: dict = {}
    value = None
    for ts, v in points:
        value = shift_metric(rule, state, Reading("press-noise", "laeq", v, "dB(A)", ts, 1.0), (at(7), at(11)))
    assert value == pytest.approx(rec["dose_percent"], abs=1e-6)


def test_d2_a_short_loud_burst_inside_a_quiet_interval_counts(osha_env: Env) -> None:
    """10 min at 110 dB(A) in 4 h at 85 dB(A) (below the 90 dB threshold): the dose is the burst's alone,
    100 x (10/60) / (8 / 2^4) = 33.3 %; the interval's average level (95.0 dB(A)) would give 100.3 % x 4/8."""
    start = at(7)
    points = [(start + i * SECOND, 110.0 if 3600 < i <= 4200 else 85.0) for i in range(1, 4 * 3600 + 1)]
    wid = _noise_zone(osha_env, points)
    osha_env.compute()
    (rec,) = osha_env.ok("GET", f"/workers/{wid}/exposure-records")
    assert rec["dose_percent"] == pytest.approx(100 * (10 / 60) / 0.5, abs=1e-6)


def test_d1_a_shift_sent_late_has_the_verdict_of_the_same_shift_sent_live(osha_env: Env) -> None:
    """Readings flagged `late` count like any other: 100 % coverage, nothing excluded, the same dose."""
    wid = _noise_zone(osha_env, _d2_points(), flags="late")
    osha_env.compute()
    (rec,) = osha_env.ok("GET", f"/workers/{wid}/exposure-records")
    assert rec["flagged_excluded"] == 0 and rec["coverage"] == pytest.approx(1.0)
    assert rec["verdict"] == "within" and rec["dose_percent"] == pytest.approx(87.5, abs=1e-6)
    (sensor,) = rec["sensors"]
    assert sensor["flagged"] == 0 and list(sensor["flags"]) == ["late"]

"""Calibration and validity: zero/span correction and overdue calibration or bump-test flags; the dates and
certificate the agent reports to the server's calibration register."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from agent.calibration import CalibrationConfig, QuantityCalibration, calibrate
from agent.config import parse_config
from agent.plugin_manager import build_plugin_manager
from agent.runtime import Agent
from exposure import Reading
from exposure.wire import SensorCalibration


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, 12, tzinfo=UTC).timestamp() * 1000)


NOW = _ms(date(2025, 11, 29))
CO = Reading("gas-1", "co", 52.0, "ppm", NOW)


def test_no_calibration_leaves_the_reading_unchanged():
    """Without a calibration table the reading passes through as it is."""
    assert calibrate(CO, None, now_ms=NOW) is CO


def test_zero_then_span_is_applied():
    """corrected = (raw - zero_offset) * span_factor."""
    cal = CalibrationConfig(zero_offset=2.0, span_factor=1.1)
    assert calibrate(CO, cal, now_ms=NOW).value == 55.0


def test_per_quantity_entry_overrides_the_sensor_wide_values():
    """A quantities entry replaces the sensor-wide zero/span for that quantity only."""
    cal = CalibrationConfig(zero_offset=5.0, quantities={"co": QuantityCalibration(zero_offset=1.0, span_factor=2.0)})
    assert calibrate(CO, cal, now_ms=NOW).value == 102.0
    h2s = Reading("gas-1", "h2s", 10.0, "ppm", NOW)
    assert calibrate(h2s, cal, now_ms=NOW).value == 5.0


def test_negative_corrected_value_is_not_clamped_to_zero():
    """A corrected value below zero is shown as measured: never turned into an invented 0."""
    cal = CalibrationConfig(zero_offset=0.4)
    low = Reading("gas-1", "co", 0.1, "ppm", NOW)
    assert calibrate(low, cal, now_ms=NOW).value == -0.3


def test_calibration_overdue_after_the_interval():
    """A sensor past last_calibrated + interval is flagged calibration_overdue; on the due day it is not."""
    due_today = CalibrationConfig(last_calibrated=date(2025, 5, 3), calibration_interval_days=210)
    assert calibrate(CO, due_today, now_ms=NOW).flags == ()
    overdue = CalibrationConfig(last_calibrated=date(2025, 5, 2), calibration_interval_days=210)
    assert calibrate(CO, overdue, now_ms=NOW).flags == ("calibration_overdue",)


def test_bump_test_overdue_is_flagged_separately():
    """An overdue bump test adds bump_test_overdue, independently of the calibration date."""
    cal = CalibrationConfig(
        last_calibrated=date(2025, 11, 1),
        calibration_interval_days=180,
        last_bump_test=date(2025, 10, 1),
        bump_test_interval_days=30,
    )
    assert calibrate(CO, cal, now_ms=NOW).flags == ("bump_test_overdue",)


def test_interval_without_a_date_counts_as_overdue():
    """A configured interval with no recorded date cannot be shown current, so it is overdue."""
    cal = CalibrationConfig(calibration_interval_days=365)
    assert "calibration_overdue" in calibrate(CO, cal, now_ms=NOW).flags


def test_existing_flags_are_kept_and_not_duplicated():
    """Flags already on the reading stay; an overdue flag is added once."""
    flagged = Reading("gas-1", "co", 1.0, "ppm", NOW, None, ("warmup", "calibration_overdue"))
    cal = CalibrationConfig(calibration_interval_days=1)
    assert calibrate(flagged, cal, now_ms=NOW).flags == ("warmup", "calibration_overdue")


def test_calibration_table_is_part_of_every_source_config():
    """The [sources.calibration] table validates on any source config, and unknown keys are refused."""
    from pydantic import ValidationError

    from plugins.simulator.source import SimulatorConfig

    cfg = SimulatorConfig(name="s", kind="gas", calibration={"span_factor": 1.2, "last_calibrated": "2025-01-01"})
    assert cfg.calibration is not None and cfg.calibration.last_calibrated == date(2025, 1, 1)
    try:
        SimulatorConfig(name="s", kind="gas", calibration={"spam_factor": 1.2})
    except ValidationError as exc:
        assert "spam_factor" in str(exc)
    else:
        raise AssertionError("an unknown calibration key was accepted")


def test_the_status_report_carries_the_calibration_of_its_sources(tmp_path: Path) -> None:
    """status_report() says, per source name (the sensor the pipeline calibrates), the dates, intervals and
    certificate of its [sources.calibration] table; a source without dates or certificate is left out."""
    host = build_plugin_manager(load_entry_points=False)
    config = parse_config(f"""
schema_version = 1
site = "plant-a"
agent = "gw-1"
data_dir = "{tmp_path}"
[uplink]
type = "http"
url = "http://127.0.0.1:9"
token = "hzm_a_not_used_here"

[[sources]]
type = "simulator"
name = "tank-3-gas"
kind = "gas"
[sources.calibration]
last_calibrated = 2025-10-01
calibration_interval_days = 180
last_bump_test = 2025-11-15
bump_test_interval_days = 30
certificate = "CAL-2025-0412"

[[sources]]
type = "simulator"
name = "zero-span-only"
kind = "dust"
[sources.calibration]
span_factor = 1.1

[[sources]]
type = "simulator"
name = "press-2-noise"
kind = "noise"
""", source_types=host.source_types())
    agent = Agent(config, host=host)
    try:
        report = agent.status_report()
    finally:
        agent.close()
    assert report.calibration == {"tank-3-gas": SensorCalibration(
        last_calibrated="2025-10-01", calibration_interval_days=180, last_bump_test="2025-11-15",
        bump_test_interval_days=30, certificate="CAL-2025-0412")}
    assert report.to_json()["calibration"] == {"tank-3-gas": {
        "last_calibrated": "2025-10-01", "calibration_interval_days": 180, "last_bump_test": "2025-11-15",
        "bump_test_interval_days": 30, "certificate": "CAL-2025-0412"}}

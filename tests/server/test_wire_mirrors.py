"""The server's pydantic models at the HTTP and MQTT edge mirror the wire contracts in exposure/wire.py: the
same field names for agent status reports (and their calibration entries) and edge alarm events, and the routes
at the paths the agent calls."""

from __future__ import annotations

from pathlib import Path

from exposure import wire
from server.alerts.edge_alarms import EdgeAlarmIn
from server.app import create_app
from server.calibration.schemas import CalibrationReport
from server.ingest.status import SourceStatusIn, StatusReport
from server.settings import Settings


def test_edge_alarm_events_have_the_wire_fields() -> None:
    """EdgeAlarmIn takes exactly the fields of wire.AlarmEvent."""
    assert set(EdgeAlarmIn.model_fields) == set(wire.ALARM_EVENT_FIELDS)


def test_status_reports_have_the_wire_fields() -> None:
    """StatusReport takes exactly the fields of wire.StatusReport."""
    assert set(StatusReport.model_fields) == set(wire.STATUS_FIELDS)


def test_calibration_entries_have_the_wire_fields() -> None:
    """CalibrationReport takes exactly the fields of wire.SensorCalibration."""
    assert set(CalibrationReport.model_fields) == set(wire.CALIBRATION_FIELDS)


def test_the_agent_paths_are_served(tmp_path: Path) -> None:
    """The paths the agent's HTTP uplink posts to are POST routes of the server."""
    paths = create_app(Settings(data_dir=tmp_path)).openapi()["paths"]
    for path in (wire.INGEST_PATH, wire.EDGE_ALARMS_PATH, wire.STATUS_PATH):
        assert "post" in paths[path], path


def test_source_statuses_have_the_wire_fields() -> None:
    """SourceStatusIn takes exactly the fields of wire.SourceStatus."""
    assert set(SourceStatusIn.model_fields) == set(wire.SOURCE_STATUS_FIELDS)

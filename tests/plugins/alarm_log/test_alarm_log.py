"""The `log` alarm output."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from agent.alarms.outputs import AlarmSignal
from plugins.alarm_log import LogOutput, LogOutputConfig

FOLDER = Path(__file__).resolve().parents[3] / "plugins" / "alarm_log"


def test_sample_output_validates():
    """The sample's output table validates against the plugin's config model."""
    table = tomllib.loads((FOLDER / "sample.toml").read_text())["alarms"][0]["outputs"][0]
    assert LogOutputConfig.model_validate(table).level == "warning"


def test_raised_and_cleared_alarms_are_logged(caplog):
    """An active alarm logs at the configured level; a cleared one at info."""
    out = LogOutput(LogOutputConfig(level="error"))
    with caplog.at_level(logging.INFO, logger="hazmon.alarm"):
        out.set(AlarmSignal("h2s-local", "tank-1", True, "critical", 25.0, "ppm", 0))
        out.set(AlarmSignal("h2s-local", "tank-1", False, None, 5.0, "ppm", 1))
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("ERROR", "ALARM CRITICAL h2s-local on tank-1: 25 ppm"), ("INFO", "alarm cleared: h2s-local on tank-1 (5 ppm)")]

"""`hazmon demo`: server, agent and simulated sensors in one process; it stores everything it reads, raises the
gas-leak alert, appends to its data dir on a second run, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.kit.ports import free_port
from tests.kit.server import REPO, hazmon_env

pytestmark = pytest.mark.slow


def _demo(data_dir: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hazmon", "demo", "--port", str(free_port()), "--data-dir", str(data_dir), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=hazmon_env(),
    )


def _summary(data_dir: Path, duration: int) -> dict:
    proc = _demo(data_dir, "--duration", str(duration), "--json")
    out, err = proc.communicate(timeout=duration + 90)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return json.loads(out.strip().splitlines()[-1])


def test_demo_stores_every_reading_and_raises_the_leak_alert_then_appends(tmp_path):
    """A 14 s run (the leak starts at 5 s) stores every reading it produced and raises >= 1 alert, leaving the
    outbox empty; a second run on the same data dir adds to what the first stored."""
    first = _summary(tmp_path, 14)
    assert first["readings_stored"] > 0
    assert first["readings_stored"] == first["readings_produced"]
    assert first["alerts_raised"] >= 1
    assert first["outbox_pending"] == 0
    assert first["readings_total"] == first["readings_stored"]

    second = _summary(tmp_path, 3)
    assert second["readings_stored"] == second["readings_produced"] > 0
    assert second["outbox_pending"] == 0
    assert second["readings_total"] == first["readings_total"] + second["readings_stored"]
    # the demo's zones, declared once, each measured by its sensor, with its hazards
    with sqlite3.connect(tmp_path / "hazmon.db") as db:
        zones = db.execute(
            "SELECT z.code, s.name, (SELECT group_concat(h.substance) FROM health_hazards h WHERE h.zone_id = z.id)"
            " FROM health_zones z JOIN health_zone_sensors zs ON zs.zone_id = z.id"
            " JOIN sensors s ON s.id = zs.sensor_id ORDER BY z.code").fetchall()
    assert zones == [("grinding", "grinding-dust", "silica_crystalline"), ("press-shop", "press-2-noise", "noise"),
                     ("tank-farm", "tank-3-gas", "h2s,co")]


def test_ctrl_c_stops_the_demo_cleanly(tmp_path):
    """SIGINT while running: exit code 0, a summary, and no traceback on stderr."""
    proc = _demo(tmp_path)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:  # status lines, one per second when stdout is not a terminal
        if "stored" in line and " stored 0 " not in line:
            break
        assert time.monotonic() < deadline, "the demo stored nothing within 60 s"
    else:
        raise AssertionError(f"the demo ended by itself: {proc.stderr.read() if proc.stderr else ''}")
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert "stopped:" in out
    assert " 0 readings left in the outbox" in out

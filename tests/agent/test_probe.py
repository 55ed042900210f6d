"""Commissioning probe: run one source for a while, report readings, counters and errors."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import tty

import typer
from typer.testing import CliRunner

from agent.clock import SystemClock
from agent.probe import SourceCounters, format_report, probe
from agent.sources import Source, SourceConfig
from hazmon.probe_cli import probe as probe_command
from plugins.simulator.source import SimulatorConfig, SimulatorSource

GOOD_PMS = bytes.fromhex("424d001c0005000d00160005000d001602fd00fc001d000f00060006970003c5")


async def test_probe_collects_readings_until_the_source_ends():
    """A finite source is read to its end; the report holds every reading and no error."""
    cfg = SimulatorConfig(name="sim", kind="gas", samples=3, interval_s=0.001)
    report = await probe(SimulatorSource(cfg, clock=SystemClock()), duration_s=5)
    assert len(report.readings) == 9 and report.ok
    assert report.errors == ()
    assert "co" in format_report(report)


class Broken(Source):
    type_name = "broken"

    def __init__(self) -> None:
        super().__init__(SourceConfig(type="broken", name="b1"), clock=SystemClock())
        self.counters = SourceCounters()
        self.counters.bad("bad_checksum")

    async def readings(self):
        raise OSError("port vanished")
        yield  # pragma: no cover


async def test_probe_reports_a_failing_source_instead_of_raising():
    """A source that raises is reported with its error and counters; the probe itself does not fail."""
    report = await probe(Broken(), duration_s=1)
    assert not report.ok
    assert report.errors == ("OSError: port vanished",)
    assert report.counters["frames_bad"] == {"bad_checksum": 1}


async def test_probe_stops_after_the_duration():
    """An endless source is stopped after duration_s and closed."""
    cfg = SimulatorConfig(name="sim", kind="noise", interval_s=0.01)
    source = SimulatorSource(cfg, clock=SystemClock())
    report = await asyncio.wait_for(probe(source, duration_s=0.2), 5)
    assert 1 <= len(report.readings) <= 25


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command()(probe_command)
    return app


def test_probe_command_reads_a_serial_sensor_from_the_config(tmp_path):
    """`probe --config --source` builds the named source from the TOML file and prints its report as JSON."""
    master, slave = os.openpty()
    tty.setraw(slave)
    stop = threading.Event()

    def sensor() -> None:  # an active-mode PMS5003 pushes a frame every 0.2-2.3 s; here every 50 ms
        while not stop.wait(0.05):
            os.write(master, GOOD_PMS)

    config = tmp_path / "agent.toml"
    config.write_text(
        f'[[sources]]\ntype = "plantower"\nname = "dust-1"\nport = "{os.ttyname(slave)}"\nmode = "active"\n'
    )
    thread = threading.Thread(target=sensor, daemon=True)
    thread.start()
    try:
        result = CliRunner().invoke(_app(), ["--config", str(config), "--source", "dust-1", "-d", "1", "--json"])
    finally:
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["counters"]["frames_ok"] >= 1
    assert {"pm1", "pm2_5", "pm10"} <= {r["quantity"] for r in report["readings"]}


def test_probe_command_names_a_missing_source(tmp_path):
    """An unknown source name exits 2 and lists the configured names."""
    config = tmp_path / "agent.toml"
    config.write_text('[[sources]]\ntype = "simulator"\nname = "sim-1"\nkind = "gas"\n')
    done = subprocess.run([sys.executable, "-m", "hazmon", "agent", "probe", "--config", str(config), "--source",
                           "nope"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "sim-1" in done.stderr

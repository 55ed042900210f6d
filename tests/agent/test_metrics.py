"""`[metrics] listen`: a running agent serves its own state for Prometheus: what it read, wrote and rejected, its
outbox and its uplink. A bad address is a config error naming the key; a port already in use stops
`hazmon agent run` with one line, not a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.config import ConfigError, parse_config
from agent.plugin_manager import build_plugin_manager
from agent.runtime import Agent
from tests.kit.ports import free_port
from tests.kit.prometheus import Scrape, parse
from tests.kit.server import ServerProcess
from tests.kit.waiting import wait_for_async
from tests.plugins.plugin_testkit import FakeDevice

REPO = Path(__file__).resolve().parents[2]


def _config_text(tmp_path: Path, *, url: str, token: str, listen: str, sources: str) -> str:
    return (f'schema_version = 1\nsite = "s"\nagent = "metered"\ndata_dir = "{tmp_path / "agent"}"\n\n'
            f'[uplink]\ntype = "http"\nurl = "{url}"\ntoken = "{token}"\ntimeout_s = 5\n\n'
            f'[outbox]\nflush_interval_s = 0.05\n\n[metrics]\nlisten = "{listen}"\n{sources}')


def _agent(text: str) -> Agent:
    host = build_plugin_manager(load_entry_points=False)
    return Agent(parse_config(text, source_types=host.source_types(), filename="agent.toml"), host=host)


async def _scrape(port: int) -> Scrape:
    async with httpx.AsyncClient() as client:
        r = await client.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
    assert r.status_code == 200, r.text
    return parse(r.text)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "server")
    proc.start()
    yield proc
    proc.stop()


async def test_a_running_agent_serves_its_readings_rejections_outbox_and_uplink(tmp_path: Path,
                                                                                server: ServerProcess):
    """A serial meter sends three good lines and `level=1e999`: readings_total 3 (the agent's own count),
    rejected_frames_total{reason="not_finite"} 1 for that source; once the server acknowledged everything, the
    uplink is connected, the outbox empty (age 0) and the server counts the same three readings."""
    device = FakeDevice(tmp_path / "ttyUSB0")
    port = free_port()
    sources = (f'\n[[sources]]\ntype = "serial_lines"\nname = "tank-h2s"\nport = "{device.path}"\nformat = "kv"\n'
               '[sources.fields.level]\nquantity = "h2s"\nunit = "ppm"\n')
    agent = _agent(_config_text(tmp_path, url=server.url, token=server.agent_token("s", "metered"),
                                listen=f"127.0.0.1:{port}", sources=sources))
    (meter,) = agent.sources
    task = asyncio.create_task(agent.run())
    try:
        await wait_for_async(lambda: getattr(meter, "port", None) is not None and meter.port.is_open,  # type: ignore[attr-defined]
                             timeout=10, what="the serial port to open")
        device.send(b"level=1.0\nlevel=1e999\nlevel=2.0\nlevel=3.0\n")
        await wait_for_async(lambda: agent.readings_read == 3, timeout=10, what="three readings")
        await wait_for_async(lambda: agent.uplink.connected and agent.outbox.stats().batches == 0, timeout=20,
                             what="the server to acknowledge every batch")
        scrape = await _scrape(port)
        assert scrape.value("hazmon_agent_readings_total") == agent.readings_read == 3
        assert scrape.value("hazmon_agent_source_readings_total", source="tank-h2s") == 3
        assert scrape.series("hazmon_agent_rejected_frames_total") == {
            (("reason", "not_finite"), ("source", "tank-h2s")): 1}
        assert scrape.value("hazmon_agent_batches_written_total") == agent.batches_written >= 1
        assert scrape.value("hazmon_agent_source_up", source="tank-h2s") == 1
        assert scrape.value("hazmon_agent_uplink_connected") == 1
        assert [scrape.value(f"hazmon_agent_outbox_{name}") for name in ("batches", "readings", "oldest_age_seconds")
                ] == [0, 0, 0]
        assert scrape.value("hazmon_agent_info", site="s", agent="metered") == 1
        for name in ("outbox_full", "disk_full", "dropped_readings_total", "alarm_output_failures_total"):
            assert scrape.value(f"hazmon_agent_{name}") == 0, name
        on_server = parse(httpx.get(f"{server.url}/metrics", timeout=5).text)  # public: no HAZMON_METRICS_TOKEN
        assert on_server.value("hazmon_server_events_total", event="ingest_readings") == 3
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        agent.close()
        device.close()
    with pytest.raises(httpx.ConnectError):  # the endpoint stops with the agent
        await _scrape(port)


async def test_what_the_server_has_not_acknowledged_shows_in_the_outbox_gauges(tmp_path: Path):
    """Server unreachable: every reading of a simulator that finished after 5 samples waits in the outbox (at least
    one batch, an age above 0), the uplink is not connected and the finished source is not up."""
    port = free_port()
    sources = '\n[[sources]]\ntype = "simulator"\nname = "sim-gas"\nkind = "gas"\ninterval_s = 0.01\nsamples = 5\n'
    agent = _agent(_config_text(tmp_path, url=f"http://127.0.0.1:{free_port()}", token="hzm_a_unreachable",
                                listen=f"127.0.0.1:{port}", sources=sources))
    task = asyncio.create_task(agent.run())
    try:
        health = agent.supervisor.health["sim-gas"]
        await wait_for_async(lambda: health.state == "finished" and agent.outbox.stats().readings == health.readings,
                             timeout=10, what="the simulator's readings in the outbox")
        scrape = await _scrape(port)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        agent.close()
    assert health.readings >= 5
    assert scrape.value("hazmon_agent_readings_total") == scrape.value("hazmon_agent_outbox_readings") == \
        health.readings
    assert scrape.value("hazmon_agent_outbox_batches") >= 1  # type: ignore[operator]
    assert scrape.value("hazmon_agent_outbox_oldest_age_seconds") > 0  # type: ignore[operator]
    assert scrape.value("hazmon_agent_uplink_connected") == 0
    assert scrape.value("hazmon_agent_source_up", source="sim-gas") == 0
    assert scrape.series("hazmon_agent_rejected_frames_total") == {}


@pytest.mark.parametrize("listen", ["9108", "127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "::1:9108"])
def test_a_listen_address_that_is_not_host_port_is_a_config_error_naming_the_key(listen: str):
    """One problem, on the line of `listen`, naming metrics.listen and the value."""
    text = ('schema_version = 1\nsite = "s"\nagent = "a"\n\n[uplink]\ntype = "http"\nurl = "http://127.0.0.1:8600"\n'
            f'token = "hzm_a_0123456789abcdef"\n\n[metrics]\nlisten = "{listen}"\n')
    host = build_plugin_manager(load_entry_points=False)
    with pytest.raises(ConfigError) as err:
        parse_config(text, source_types=host.source_types(), filename="agent.toml")
    (problem,) = err.value.problems
    assert problem.startswith("agent.toml:11: metrics.listen: ") and repr(listen) in problem


def test_a_port_in_use_stops_agent_run_with_one_line(tmp_path: Path):
    """Another process listens on the metrics port: `hazmon agent run` exits 2 with one error line naming
    metrics.listen and the address, and no traceback."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = tmp_path / "agent.toml"
        path.write_text(_config_text(tmp_path, url="http://127.0.0.1:8600", token="hzm_a_0123456789abcdef",
                                     listen=f"127.0.0.1:{port}", sources=""))
        env = {k: v for k, v in os.environ.items() if not k.startswith("HAZMON_")}
        done = subprocess.run([sys.executable, "-m", "hazmon", "agent", "run", "-c", str(path)], capture_output=True,
                              text=True, timeout=60, cwd=REPO, env=env)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {path}: metrics.listen: cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert "Traceback" not in done.stderr

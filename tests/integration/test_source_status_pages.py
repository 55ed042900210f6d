"""Per-source status end to end on loopback: a real agent (in process) with a simulated gas sensor that reads
and a serial noise meter on a port that does not exist reports each source's state, frame counters and last
error to a real server process over HTTP; /agents shows the failing source's last error, /sensors the working
source's state and counters and the silent one under "no reading yet"."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.config import parse_config
from agent.plugin_manager import build_plugin_manager
from agent.runtime import Agent
from tests.kit.server import ServerProcess
from tests.kit.waiting import wait_for_async

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    data = tmp_path / "server"
    data.mkdir()
    proc = ServerProcess(data)
    proc.start()
    yield proc
    proc.stop()


def _agent(server: ServerProcess, tmp_path: Path) -> Agent:
    token = server.agent_token("plant-a", "gw-1")
    text = (f'schema_version = 1\nsite = "plant-a"\nagent = "gw-1"\ndata_dir = "{tmp_path / "agent"}"\n\n'
            f'[uplink]\ntype = "http"\nurl = "{server.url}"\ntoken = "{token}"\ntimeout_s = 5\n'
            f'status_interval_s = 0.3\n\n[outbox]\nflush_interval_s = 0.2\n\n'
            '[[sources]]\ntype = "simulator"\nname = "tank-3-gas"\nkind = "gas"\ninterval_s = 0.05\n\n'
            f'[[sources]]\ntype = "serial_lines"\nname = "press-2-noise"\nport = "{tmp_path / "no-such-port"}"\n'
            'format = "kv"\ninterval_s = 0.2\n[sources.fields.LAeq]\nquantity = "laeq"\nunit = "dB(A)"\n')
    host = build_plugin_manager(load_entry_points=False)
    config = parse_config(text, source_types=host.source_types(), filename="agent.toml")
    return Agent(config, host=host)


def _part(server: ServerProcess, path: str) -> str:
    r = httpx.get(f"{server.url}{path}", headers={"Authorization": f"Bearer {server.admin_token()}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.text


def _source_item(html: str, name: str) -> str:
    m = re.search(rf'<li data-source="{re.escape(name)}".*?</li>', html, re.S)
    assert m, f"source {name} not on the page"
    return m.group(0)


def test_each_source_state_counters_and_last_error_reach_the_facilities_pages(server, tmp_path):
    """The gas simulator shows ok with frames counted; the missing serial port shows failing or unavailable with
    its error, on /agents and (as a source with no reading yet) on /sensors."""
    agent = _agent(server, tmp_path)

    async def run() -> None:
        task = asyncio.create_task(agent.run())
        try:
            def reported() -> bool:
                html = _part(server, "/web/partials/agents")
                return (re.search(r'data-source="press-2-noise" data-source-state="(failing|unavailable)"', html)
                        is not None and 'data-source="tank-3-gas" data-source-state="ok"' in html)
            await wait_for_async(reported, timeout=20, what="both sources on /agents")
            # the simulator's readings are stored too (the status may come before the first batch)
            await wait_for_async(lambda: 'data-sensor="plant-a/tank-3-gas"' in _part(server, "/web/partials/sensors"),
                                 timeout=20, what="tank-3-gas's readings on /sensors")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            agent.close()

    asyncio.run(run())
    agents = _part(server, "/web/partials/agents")
    noise = _source_item(agents, "press-2-noise")
    assert re.search(r'data-source-state="(failing|unavailable)"', noise), noise
    assert "last error" in noise and "no-such-port" in noise, noise
    gas = _source_item(agents, "tank-3-gas")
    assert "no error" in gas, gas

    sensors = _part(server, "/web/partials/sensors")
    card = re.search(r'data-sensor="plant-a/tank-3-gas".*?</section>', sensors, re.S)
    assert card, sensors
    assert 'data-source-state="ok"' in card.group(0)
    frames_ok = re.search(r'class="frames-ok">(\d+)<', card.group(0))
    assert frames_ok and int(frames_ok.group(1)) > 0, card.group(0)
    listed = {s["name"]: s for s in server.get("/agents")[0]["sources"]}
    assert listed["tank-3-gas"]["state"] == "ok" and listed["tank-3-gas"]["frames_ok"] > 0
    assert listed["press-2-noise"]["state"] in ("failing", "unavailable")
    assert "no-such-port" in listed["press-2-noise"]["last_error"] and listed["press-2-noise"]["last_error_ts"]
    unseen = re.search(r'data-unseen-source="plant-a/press-2-noise".*?</section>', sensors, re.S)
    assert unseen and "no-such-port" in unseen.group(0), sensors


def test_a_report_without_sources_keeps_the_last_ones_and_an_error_is_one_line(server):
    """An older agent's report (no `sources`) leaves the stored per-source rows; a report with them replaces them;
    a multi-line error is stored as its first line."""
    token = server.agent_token("plant-a", "gw-2")
    auth = {"Authorization": f"Bearer {token}"}

    def post(body: dict) -> None:
        r = httpx.post(f"{server.url}/api/v1/agent-status", json=body, headers=auth, timeout=10)
        assert r.status_code == 200, r.text

    post({"state": "online", "sources": [{"name": "dust-1", "state": "failing", "frames_ok": 7, "frames_bad": 2,
                                          "last_error": "checksum mismatch\n  at byte 31", "last_error_ts": 5}]})
    post({"state": "online", "version": "0.0.9"})
    item = _source_item(_part(server, "/web/partials/agents"), "dust-1")
    assert 'data-source-state="failing"' in item and "checksum mismatch" in item and "at byte" not in item
    post({"state": "online", "sources": [{"name": "dust-2", "state": "ok"}]})
    html = _part(server, "/web/partials/agents")
    assert 'data-source="dust-1"' not in html and 'data-source="dust-2" data-source-state="ok"' in html
    r = httpx.post(f"{server.url}/api/v1/agent-status", headers=auth, timeout=10,
                   json={"state": "online", "sources": [{"name": "x", "state": "broken"}]})
    assert r.status_code == 422

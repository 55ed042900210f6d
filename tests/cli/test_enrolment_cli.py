"""A site box enrolled in minutes, as an admin and a technician type it: `hazmon server agent enroll-code`,
`hazmon agent enroll` on a fresh data directory, then `hazmon agent run` delivers to a real server process;
`hazmon agent check --online` says what is wrong, naming the URL."""

from __future__ import annotations

import stat
import subprocess
import sys

import httpx
import pytest

from tests.kit.processes import Proc
from tests.kit.server import HAZMON, REPO, ServerProcess, hazmon_env
from tests.kit.waiting import wait_for

pytestmark = pytest.mark.slow

SOURCE = '\n[[sources]]\ntype = "simulator"\nname = "box-gas"\nkind = "gas"\ninterval_s = 0.1\n'


def _agent(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HAZMON, "agent", *args], env=hazmon_env(), cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def _stored(server: ServerProcess, sensor: str) -> int:
    """How many readings of `sensor` the server holds (0 while it does not know the sensor: 404)."""
    try:
        return len(server.readings(None, sensor))
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code == 404:
            return 0
        raise


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.splitlines()
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


@pytest.fixture
def server(tmp_path):
    s = ServerProcess(tmp_path / "server")
    s.start()
    yield s
    s.stop()


def test_an_enrolled_agent_delivers_its_readings_and_the_code_works_once(server, tmp_path):
    """enroll-code -> enroll (config mode 0600, connection checked) -> agent run delivers; the same code again is
    refused in one line; check --online says ok."""
    code = server.cli("agent", "enroll-code", "--site", "plant-a", "--agent", "box-1", "--expires", "1h"
                      ).stdout.strip()
    box = tmp_path / "box"
    done = _agent("enroll", "--server", server.url, "--code", code, "--data-dir", str(box))
    assert done.returncode == 0, done.stderr
    config = box / "agent.toml"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert "enrolled as plant-a/box-1" in done.stdout and "connection ok" in done.stdout

    again = _agent("enroll", "--server", server.url, "--code", code, "--config", str(tmp_path / "other.toml"))
    line = _one_error_line(again)
    assert server.url in line and "already used" in line
    assert not (tmp_path / "other.toml").exists()

    with config.open("a") as out:
        out.write(SOURCE)
    online = _agent("check", "-c", str(config), "--online")
    assert online.returncode == 0, online.stderr
    assert f"{server.url}: ok (token of plant-a/box-1" in online.stdout

    agent = Proc("agent", [*HAZMON, "agent", "run", "-c", str(config)], env=hazmon_env(), cwd=REPO,
                 log=tmp_path / "agent.log")
    agent.start()
    try:
        wait_for(lambda: (agent.alive_or_fail(), _stored(server, "box-gas") >= 3)[1], timeout=30,
                 what="the enrolled agent's readings on the server")
        assert f"uplink: connected to {server.url}" in agent.log_text()
        server.stop()
        wait_for(lambda: f"uplink: disconnected from {server.url}: " in agent.log_text(), timeout=30,
                 what="the agent to log the lost server with its URL")
        assert "HTTP Request" not in agent.log_text()  # no line per request
    finally:
        agent.stop()


def test_check_online_names_the_url_when_the_token_is_refused(server, tmp_path):
    """A token the server does not know: one line naming the URL, exit code 2."""
    config = tmp_path / "agent.toml"
    config.write_text(f'schema_version = 1\nsite = "plant-a"\nagent = "gw-1"\n\n[uplink]\ntype = "http"\n'
                      f'url = "{server.url}"\ntoken = "hzm_a_not-a-token"\n')
    line = _one_error_line(_agent("check", "-c", str(config), "--online"))
    assert f"{server.url}/api/v1/agents/me" in line and "refuses the agent's token" in line


def test_check_online_names_the_url_when_the_server_is_unreachable(tmp_path):
    """Nothing listens at the URL: one line naming it, exit code 2 (no retry loop)."""
    from tests.kit.ports import free_port

    url = f"http://127.0.0.1:{free_port()}"
    config = tmp_path / "agent.toml"
    config.write_text(f'schema_version = 1\nsite = "plant-a"\nagent = "gw-1"\n\n[uplink]\ntype = "http"\n'
                      f'url = "{url}"\ntoken = "hzm_a_0123456789"\n')
    line = _one_error_line(_agent("check", "-c", str(config), "--online"))
    assert url in line and "cannot reach" in line


def test_a_second_agent_token_does_not_cut_off_the_running_agent(server, tmp_path):
    """`agent-token create` twice for one agent: the first token is still accepted (check --online)."""
    first = server.cli("agent-token", "create", "--site", "plant-a", "--agent", "gw-1").stdout.strip()
    server.cli("agent-token", "create", "--site", "plant-a", "--agent", "gw-1")
    config = tmp_path / "agent.toml"
    config.write_text(f'schema_version = 1\nsite = "plant-a"\nagent = "gw-1"\n\n[uplink]\ntype = "http"\n'
                      f'url = "{server.url}"\ntoken = "{first}"\n')
    done = _agent("check", "-c", str(config), "--online")
    assert done.returncode == 0, done.stderr


def test_enroll_code_with_a_bad_expiry_is_one_line(tmp_path):
    """`--expires soon`: one line naming the option, exit code 2."""
    done = subprocess.run([sys.executable, "-m", "hazmon", "server", "agent", "enroll-code", "--site", "plant-a",
                           "--expires", "soon"], env=hazmon_env(data_dir=str(tmp_path)), cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert "--expires" in _one_error_line(done)



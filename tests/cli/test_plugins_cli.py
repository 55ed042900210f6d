"""`hazmon agent plugins` and `hazmon server plugins` print one report format: `<plugin>: <names>` per loaded
plugin, then `FAILED <plugin>: <error>` per plugin that failed, with exit code 1 when one did."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _hazmon(*args: str, path: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZMON_")}
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "hazmon", *args], capture_output=True, text=True, timeout=60,
                          cwd=REPO, env=env)


@pytest.fixture
def ghost_distribution(tmp_path: Path) -> Path:
    """An installed distribution whose `hazmon.agent` and `hazmon.server` entry points name a missing module."""
    dist = tmp_path / "hazmon_ghost-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hazmon-ghost\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[hazmon.agent]\nghost = hzt_ghost_module\n\n[hazmon.server]\nghost = hzt_ghost_module\n")
    return tmp_path


@pytest.mark.parametrize("side", ["agent", "server"])
def test_a_plugin_that_fails_is_reported_alike_by_both_commands(side: str, ghost_distribution: Path) -> None:
    """The same FAILED line on stdout and exit code 1; the built-ins are still listed."""
    done = _hazmon(side, "plugins", path=ghost_distribution)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "FAILED ghost: ModuleNotFoundError: No module named 'hzt_ghost_module'"
    builtin = "plugins.simulator: simulator" if side == "agent" else "server.notify.channels: apprise, log, webhook"
    assert builtin in lines


def test_the_agent_report_lists_alarm_outputs_too() -> None:
    """Alarm output plugins are listed with the output types they declare, like source plugins."""
    done = _hazmon("agent", "plugins")
    assert done.returncode == 0, done.stderr
    assert {"plugins.alarm_log: log", "plugins.modbus_relay: modbus_coil"} <= set(done.stdout.splitlines())

"""`hazmon agent check|plugins` as a person runs them: a bad config stops with exit code 2 naming the key and
its line on stderr; a good one says ok."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

GOOD = """\
schema_version = 1
site = "plant-a"
agent = "gw-1"

[uplink]
type = "http"
url = "http://127.0.0.1:8600"
token = "hzm_a_0123456789abcdef"

[[sources]]
type = "simulator"
name = "tank-3-gas"
kind = "gas"

[[sources]]
type = "simulator"
name = "press-2-noise"
kind = "noise"
"""


def _hazmon(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZMON_")}
    return subprocess.run([sys.executable, "-m", "hazmon", *args], capture_output=True, text=True, timeout=60,
                          cwd=REPO, env=env)


def test_check_accepts_a_good_config(tmp_path):
    """A valid file: exit 0 and a one-line summary."""
    path = tmp_path / "agent.toml"
    path.write_text(GOOD)
    done = _hazmon("agent", "check", "-c", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{path}: ok (2 sources, uplink http)"


def test_check_of_a_bad_config_exits_2_naming_the_key_and_line(tmp_path):
    """`sead = 3` in the 2nd source: exit code 2, stderr names sources[1].sead and line 19, no traceback."""
    path = tmp_path / "bad.toml"
    path.write_text(GOOD + "sead = 3\n")
    done = _hazmon("agent", "check", "-c", str(path))
    assert done.returncode == 2
    assert f"error: {path}:19: sources[1].sead: unknown key (a typo?)" in done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    assert "ok" not in done.stdout


def test_check_of_a_missing_file_exits_2(tmp_path):
    """A config file that is not there is an error message, not a traceback."""
    done = _hazmon("agent", "check", "-c", str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert "nope.toml" in done.stderr and "Traceback" not in done.stderr


def test_plugins_lists_the_simulator_and_its_source_type():
    """`hazmon agent plugins` lists each loaded plugin with the source types it declares."""
    done = _hazmon("agent", "plugins")
    assert done.returncode == 0, done.stderr
    assert "plugins.simulator: simulator" in done.stdout.splitlines()

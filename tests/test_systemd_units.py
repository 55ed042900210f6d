"""The systemd units in config/systemd/ are valid (`systemd-analyze verify`) with hazmon installed where they
expect it, and keep the promises docs/site-box.md makes: restart on failure, a dedicated user, a state
directory, the journal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.kit.require import binary

REPO = Path(__file__).resolve().parents[1]
UNITS = sorted((REPO / "config" / "systemd").glob("*.service"))
INSTALLED = "/opt/hazmon/bin/hazmon"


def test_there_is_a_unit_for_the_agent_and_one_for_the_server():
    """hazmon-agent.service and hazmon-server.service."""
    assert [u.name for u in UNITS] == ["hazmon-agent.service", "hazmon-server.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_a_unit_restarts_on_failure_as_its_own_user_with_a_state_directory(unit):
    """Restart=on-failure, a User= of its own, StateDirectory=, output to the journal."""
    lines = set(unit.read_text().splitlines())
    assert "Restart=on-failure" in lines
    assert {f"User={unit.stem}", "User=hazmon"} & lines
    assert any(line.startswith("StateDirectory=hazmon") for line in lines)
    assert {"StandardOutput=journal", "StandardError=journal"} <= lines


def test_systemd_analyze_verifies_the_units(tmp_path):
    """`systemd-analyze verify` accepts both units, with hazmon at the path they name (here: this venv's)."""
    analyze = binary("systemd-analyze", package="systemd")
    here = str(Path(sys.executable).parent / "hazmon")
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace(INSTALLED, here))
        copies.append(str(copy))
    done = subprocess.run([analyze, "verify", *copies], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    problems = [line for line in (done.stdout + done.stderr).splitlines() if any(u.name in line for u in UNITS)]
    assert done.returncode == 0 and problems == [], done.stdout + done.stderr

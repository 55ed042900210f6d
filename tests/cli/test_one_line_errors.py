"""Every mistake a user can meet is one line on stderr, `error: <what>: <why>`, and exit code 2: no traceback.
One test per mistake, each run as a person types it."""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.kit.ports import free_port
from tests.kit.server import HAZMON, REPO, hazmon_env

CONFIG = REPO / "config"


def _run(*args: str, timeout: float = 60, **settings: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*HAZMON, *args], env=hazmon_env(**settings), cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)


def _the_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.splitlines()
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: ") and lines[0] != "error: ", done.stderr[-2000:]
    return lines[0]


@pytest.mark.slow
def test_a_postgresql_database_without_the_schema_says_run_db_upgrade(empty_postgres, tmp_path):
    """`hazmon server run` on an empty PostgreSQL database: one line saying `hazmon server db upgrade`."""
    line = _the_line(_run("server", "run", "--port", str(free_port()), data_dir=str(tmp_path),
                          database_url=empty_postgres))
    assert "needs `hazmon server db upgrade`" in line and "postgresql" in line


@pytest.mark.slow
def test_an_admin_command_on_a_database_without_the_schema_says_run_db_upgrade(empty_postgres, tmp_path):
    """`hazmon server agent-token create` on an empty PostgreSQL database: the same one line."""
    line = _the_line(_run("server", "agent-token", "create", "--site", "plant-a", "--agent", "gw-1",
                          data_dir=str(tmp_path), database_url=empty_postgres))
    assert "needs `hazmon server db upgrade`" in line


def test_a_bad_database_url_is_one_line(tmp_path):
    """HAZMON_DATABASE_URL with an unknown scheme names the setting and the URL."""
    line = _the_line(_run("server", "run", "--port", str(free_port()), data_dir=str(tmp_path),
                          database_url="postgres-sql://db.example/hazmon"))
    assert line.startswith("error: HAZMON_DATABASE_URL") and "postgres-sql://db.example/hazmon" in line
    unknown = _the_line(_run("server", "run", "--port", str(free_port()), data_dir=str(tmp_path),
                             database_url="postgresq://db.example/hazmon"))
    assert unknown.startswith("error: HAZMON_DATABASE_URL postgresq://db.example/hazmon: ")


def test_an_unreachable_database_is_one_line(tmp_path):
    """A PostgreSQL URL where nothing listens names the database (password hidden) and the refusal."""
    url = f"postgresql+psycopg://hazmon:secret@127.0.0.1:{free_port()}/hazmon"
    line = _the_line(_run("server", "db", "upgrade", data_dir=str(tmp_path), database_url=url))
    assert "database postgresql+psycopg://hazmon:***@127.0.0.1" in line and "secret" not in line


def test_a_typo_in_an_emergency_plan_is_one_line(tmp_path):
    """`min_severty` in a plan: one line naming the file and the key."""
    plans = tmp_path / "emergency"
    shutil.copytree(CONFIG / "emergency", plans)
    plan = plans / "toxic-release.toml"
    plan.write_text(plan.read_text().replace("min_severity", "min_severty", 1))
    line = _the_line(_run("server", "run", "--port", str(free_port()), data_dir=str(tmp_path),
                          emergency_dir=str(plans)))
    line_no = next(n for n, text in enumerate(plan.read_text().splitlines(), 1) if text.startswith("min_severty"))
    assert line.startswith(f"error: {plan}:{line_no}: triggers.0.min_severty: "), line


def test_a_typo_in_the_notification_file_is_one_line(tmp_path):
    """`[[grops]]` in the notification file: one line naming the file and the key."""
    notify = tmp_path / "notify.toml"
    notify.write_text((CONFIG / "notify.example.toml").read_text().replace("[[groups]]", "[[grops]]"))
    line = _the_line(_run("server", "run", "--port", str(free_port()), data_dir=str(tmp_path),
                          notify_file=str(notify)))
    line_no = next(n for n, text in enumerate(notify.read_text().splitlines(), 1) if text == "[[grops]]")
    assert line.startswith(f"error: {notify}:{line_no}: grops: "), line


def test_demo_on_a_port_in_use_names_the_port_and_suggests_port(tmp_path: Path):
    """`hazmon demo --port N` while something listens on N: one line naming N and suggesting --port."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = _the_line(_run("demo", "--port", str(port), "--duration", "5", "--data-dir", str(tmp_path)))
    assert f"port {port}" in line and "--port" in line


def test_server_run_on_a_port_in_use_names_the_port(tmp_path: Path):
    """`hazmon server run --port N` while something listens on N: the same one line."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = _the_line(_run("server", "run", "--port", str(port), data_dir=str(tmp_path)))
    assert f"port {port}" in line and "--port" in line


def test_agent_run_with_a_missing_config_is_one_line(tmp_path: Path):
    """`hazmon agent run -c` of a file that is not there: one line naming it."""
    line = _the_line(_run("agent", "run", "-c", str(tmp_path / "agent.toml")))
    assert str(tmp_path / "agent.toml") in line

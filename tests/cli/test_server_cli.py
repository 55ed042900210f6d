"""`hazmon server ...` admin commands against a real database: schema upgrade on PostgreSQL, users and tokens
that then work against a running server."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from tests.kit.server import REPO, ServerProcess, hazmon_env

pytestmark = pytest.mark.slow


def _server_cmd(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hazmon", "server", *args], env=env, cwd=REPO, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_db_upgrade_creates_the_schema_on_postgresql(empty_postgres, tmp_path):
    """`hazmon server db upgrade` with HAZMON_DATABASE_URL brings an empty PostgreSQL database to the newest
    schema; running it again is harmless; the CLI then works against it."""
    from sqlalchemy import create_engine, inspect

    env = hazmon_env(database_url=empty_postgres, data_dir=str(tmp_path))
    done = _server_cmd(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "database at the newest schema: postgresql" in done.stdout
    engine = create_engine(empty_postgres)
    try:
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert {"alembic_version", "users", "api_tokens", "agents", "ingested_batches", "sensors", "readings",
            "latest", "alerts", "audit_log"} <= tables
    assert not (tmp_path / "hazmon.db").exists()  # the URL was used, not the SQLite default
    assert _server_cmd(env, "db", "upgrade").returncode == 0
    added = _server_cmd(env, "user", "add", "chief", "--role", "safety_manager", stdin="correct horse battery\n")
    assert added.returncode == 0, added.stderr


def test_users_and_tokens_made_on_the_command_line_work_against_the_server(tmp_path):
    """user add (password on stdin), api-token create and agent-token create give working credentials."""
    server = ServerProcess(tmp_path)
    server.start()
    try:
        server.cli("user", "add", "admin", "--role", "admin", stdin="correct horse battery\n")
        admin = server.cli("api-token", "create", "--user", "admin", "--label", "tests").stdout.strip()
        agent = server.cli("agent-token", "create", "--site", "plant-a", "--agent", "gw-1").stdout.strip()
        assert admin.startswith("hzm_u_") and agent.startswith("hzm_a_")
        me = httpx.get(f"{server.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {admin}"}, timeout=10)
        assert me.json() == {"name": "admin", "role": "admin", "language": "en", "chosen": False}
        login = httpx.post(f"{server.url}/api/v1/auth/login",
                           json={"username": "admin", "password": "correct horse battery"}, timeout=10)
        assert login.status_code == 200
        ingest = httpx.post(f"{server.url}/api/v1/ingest", headers={"Authorization": f"Bearer {agent}"},
                            content=b'{"schema":"hazmon.batch/1","site":"plant-a","agent":"gw-1","seq":1,'
                                    b'"sent_ms":0,"readings":[]}', timeout=10)
        assert ingest.json() == {"acked_seq": 1}
    finally:
        server.stop()


def test_bad_input_exits_2_with_a_message(tmp_path):
    """A short password, an unknown role or an unknown user is exit code 2 with `error:` on stderr."""
    env = hazmon_env(data_dir=str(tmp_path))
    for args, stdin, words in (
        (("user", "add", "chief", "--role", "admin"), "short\n", "8 characters"),
        (("user", "add", "chief", "--role", "boss"), "correct horse battery\n", "role 'boss'"),
        (("api-token", "create", "--user", "ghost"), None, "no user 'ghost'"),
        (("agent-token", "create", "--site", "plant a", "--agent", "gw-1"), None, "site 'plant a'"),
    ):
        done = _server_cmd(env, *args, stdin=stdin)
        assert done.returncode == 2, args
        assert done.stderr.startswith("error: ") and words in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_a_second_user_with_the_same_name_is_refused(tmp_path):
    """User names are unique."""
    env = hazmon_env(data_dir=str(tmp_path))
    assert _server_cmd(env, "user", "add", "chief", "--role", "admin", stdin="correct horse battery\n").returncode == 0
    again = _server_cmd(env, "user", "add", "chief", "--role", "worker", stdin="correct horse battery\n")
    assert again.returncode == 2 and "exists" in again.stderr


def test_server_plugins_lists_the_builtin_notification_channels() -> None:
    """`hazmon server plugins` names the built-in channel plugin with its channels and reports no failure."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "hazmon", "server", "plugins"], capture_output=True, text=True,
                         check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("server.notify.channels:"))
    assert "apprise" in line and "webhook" in line
    assert "FAILED" not in out

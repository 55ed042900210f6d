"""The server harness: the real app in process (on a kit database, started by a TestClient), and the real server
as a child process (`python -m hazmon server run`) on a free loopback port.

Users, API tokens and agent tokens are made through the server's own account functions, with precomputed password
hashes (see `server_internals.add_user`); the `hazmon server ...` commands are tested in tests/cli.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.kit import server_internals
from tests.kit.databases import is_migrated
from tests.kit.ports import free_port
from tests.kit.processes import Proc
from tests.kit.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "correct horse battery"

add_user = server_internals.add_user
create_api_token = server_internals.create_api_token
create_agent_token = server_internals.create_agent_token


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


# -- in process ------------------------------------------------------------------------------------------------


def build_app(data_dir: Path, database_url: str, *, clock: Callable[[], int] | None = None,
              migrate: bool | None = None, **settings: Any) -> FastAPI:
    """create_app on `database_url`. The schema is upgraded at start-up unless the kit made the database from its
    migrated template (`migrate` overrides). The watchdogs check once at start-up and then every 300 s unless the
    test sets `watchdog_interval_s`: a test that moves its clock by hours must not find watchdog alerts it did not
    ask for (the watchdog tests call `watchdogs.check` themselves, tick by tick)."""
    if migrate is None:
        migrate = not is_migrated(database_url)
    settings.setdefault("watchdog_interval_s", 300)
    return server_internals.build_app(clock=clock, migrate=migrate, data_dir=data_dir, database_url=database_url,
                                      **settings)


def session(app: FastAPI) -> Session:
    """A new session on a started app's database."""
    return server_internals.sessions(app)()


def add_users(s: Session, users: Mapping[str, str], *, now_ms: int, password: str = PASSWORD,
              replace_password: bool = False, actor: str = "tests") -> dict[str, int]:
    """Add users (name -> role) in session `s`; returns name -> id."""
    return {name: add_user(s, name=name, role=role, password=password, now_ms=now_ms, actor=actor,
                           replace_password=replace_password).id for name, role in users.items()}


# -- child process ---------------------------------------------------------------------------------------------


def hazmon_env(**settings: str) -> dict[str, str]:
    """The environment for a `python -m hazmon` child: no inherited HAZMON_* settings, then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZMON_")}
    env.update({f"HAZMON_{k.upper()}": str(v) for k, v in settings.items() if v != ""})
    env["PYTHONUNBUFFERED"] = "1"
    return env


HAZMON = [sys.executable, "-m", "hazmon"]


class ServerProcess(Proc):
    """`hazmon server run` in a child process; `start()` returns once /api/v1/health answers (and MQTT ingest is
    connected, when it has a broker). `settings` are HAZMON_* settings (e.g. database_url, mqtt_ca_file); the
    server reconnects to a broker or InfluxDB within 2 s (retry_max_s) unless a test says otherwise."""

    def __init__(self, data_dir: Path, *, port: int | None = None, name: str = "server", mqtt_url: str = "",
                 influx_url: str = "", log_dir: Path | None = None, **settings: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.mqtt_url = mqtt_url
        settings.setdefault("retry_max_s", "2")
        settings.setdefault("log_level", "warning")
        env = hazmon_env(data_dir=str(data_dir), port=str(self.port), mqtt_url=mqtt_url,
                         influx_url=influx_url, **settings)
        self.database_url = env.get("HAZMON_DATABASE_URL") or f"sqlite:///{data_dir / 'hazmon.db'}"
        super().__init__(name, [*HAZMON, "server", "run"], env=env, cwd=REPO,
                         log=(log_dir or data_dir) / f"{name}.log")
        self._admin: str | None = None

    def start(self, *, timeout: float = 30.0) -> None:
        super().start()
        wait_for(lambda: self.health().get("status") == "ok", timeout=timeout,
                 what=f"{self.name} on {self.url} to answer /api/v1/health")
        if self.mqtt_url:
            wait_for(lambda: self.health().get("mqtt") == "connected", timeout=timeout,
                     what=f"{self.name}'s MQTT ingest")

    def health(self) -> dict[str, str]:
        self.alive_or_fail()
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=2).json()  # type: ignore[no-any-return]
        except (httpx.HTTPError, ValueError):
            return {}

    def cli(self, *args: str, stdin: str | None = None) -> Any:
        """`python -m hazmon server ARGS` against this server's data dir and database; fails on a non-zero exit."""
        import subprocess

        done = subprocess.run([*HAZMON, "server", *args], env=self.env, cwd=REPO, input=stdin, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, f"hazmon server {' '.join(args)} failed: {done.stderr}"
        return done

    # the server's own account functions, run here against its database (the server reads it on every request)
    @contextmanager
    def _session(self) -> Iterator[Session]:
        assert self.starts, "start the server first: it creates its schema"
        engine = create_engine(self.database_url, connect_args={"timeout": 30} if "sqlite" in self.database_url
                               else {})
        try:
            with Session(engine) as s, s.begin():
                yield s
        finally:
            engine.dispose()

    def add_user(self, name: str, role: str, password: str = PASSWORD) -> None:
        with self._session() as s:
            add_user(s, name=name, role=role, password=password, now_ms=wall_ms(), actor="tests",
                     replace_password=True)

    def agent_token(self, site: str, agent: str) -> str:
        with self._session() as s:
            return create_agent_token(s, site=site, agent=agent, now_ms=wall_ms(), actor="tests")

    def admin_token(self, name: str | None = None, password: str = PASSWORD) -> str:
        """An API token of an admin user (one per server object unless `name` is given)."""
        if name is None and self._admin is not None:
            return self._admin
        user = name or f"admin-{self.name}"
        self.add_user(user, "admin", password)
        with self._session() as s:
            token = create_api_token(s, user_name=user, label="tests", now_ms=wall_ms(), actor="tests")
        if name is None:
            self._admin = token
        return token

    def get(self, path: str, token: str | None = None, **params: Any) -> Any:
        r = httpx.get(f"{self.url}/api/v1{path}", params=params,
                      headers={"Authorization": f"Bearer {token or self.admin_token()}"}, timeout=30)
        r.raise_for_status()
        return r.json()

    def readings(self, token: str | None, sensor: str) -> list[dict[str, Any]]:
        """Every stored reading of a sensor, oldest first."""
        body = self.get("/readings", token, sensor=sensor, limit=100_000)
        return body["readings"] if isinstance(body, dict) else body  # type: ignore[no-any-return]

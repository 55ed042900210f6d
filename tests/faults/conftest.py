"""Real processes for the fault-injection suite: Mosquitto, InfluxDB, the hazmon server and agent, each
started, stopped and SIGKILLed on loopback ports in a temporary directory."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, service_missing


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, step: float = 0.1) -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class Proc:
    """A child process we can stop politely or SIGKILL, and start again the same way."""

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str] | None = None, log: Path) -> None:
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class Mosquitto(Proc):
    def __init__(self, directory: Path, *, extra_conf: str = "", anonymous: bool = True) -> None:
        binary = "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else shutil.which("mosquitto")
        if binary is None:
            service_missing("mosquitto (apt-get install mosquitto)")
        self.port = free_port()
        conf = directory / "mosquitto.conf"
        conf.write_text(
            # as root, mosquitto drops to its own user, which cannot read the test's private temporary directory
            ("user root\n" if os.geteuid() == 0 else "")
            + f"listener {self.port} 127.0.0.1\nallow_anonymous {str(anonymous).lower()}\npersistence true\n"
            f"persistence_location {directory}/\nmax_queued_messages 100000\n{extra_conf}"
        )
        super().__init__("mosquitto", [str(binary), "-c", str(conf)], log=directory / "mosquitto.log")

    def start(self) -> None:
        super().start()
        wait_until(lambda: _port_open(self.port), timeout=10, what="mosquitto to listen")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"


class Influxd(Proc):
    def __init__(self, directory: Path) -> None:
        binary = shutil.which("influxd")
        if binary is None:
            service_missing("influxd (apt-get install influxdb)")
        self.port = free_port()
        conf = directory / "influxdb.conf"
        conf.write_text(
            f'reporting-disabled = true\nbind-address = "127.0.0.1:{free_port()}"\n'
            f'[meta]\n  dir = "{directory}/meta"\n'
            f'[data]\n  dir = "{directory}/data"\n  wal-dir = "{directory}/wal"\n  query-log-enabled = false\n'
            f'[http]\n  enabled = true\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            "[monitor]\n  store-enabled = false\n"
        )
        super().__init__("influxd", [str(binary), "-config", str(conf)], log=directory / "influxd.log")

    def start(self) -> None:
        super().start()
        wait_until(self._pings, timeout=30, what="influxd to answer /ping")

    def _pings(self) -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/ping", timeout=1).status_code == 204
        except httpx.HTTPError:
            return False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hazmon"

    def count(self, measurement: str = "readings") -> int:
        r = httpx.get(
            f"http://127.0.0.1:{self.port}/query",
            params={"db": "hazmon", "q": f'SELECT count("value") FROM "{measurement}"'},
            timeout=10,
        )
        series = r.json()["results"][0].get("series")
        return int(series[0]["values"][0][1]) if series else 0


HAZMON = [sys.executable, "-m", "hazmon"]


class Server(Proc):
    def __init__(
        self,
        directory: Path,
        *,
        mqtt_url: str = "",
        influx_url: str = "",
        name: str = "server",
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.env = {
            **os.environ,
            "HAZMON_DATA_DIR": str(directory / "server"),
            "HAZMON_PORT": str(self.port),
            "HAZMON_MQTT_URL": mqtt_url,
            "HAZMON_INFLUX_URL": influx_url,
            "HAZMON_LOG_LEVEL": "warning",
        }
        self.env.pop("HAZMON_DATABASE_URL", None)
        self.env.update(extra_env or {})
        super().__init__(name, [*HAZMON, "server", "run"], env=self.env, log=directory / f"{name}.log")
        self.url = f"http://127.0.0.1:{self.port}"
        self._admin: str | None = None

    def cli(self, *args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            [*HAZMON, "server", *args], env=self.env, input=stdin, check=True, capture_output=True, text=True
        ).stdout.strip()

    def start(self) -> None:
        super().start()
        wait_until(lambda: self.health().get("status") == "ok", timeout=30, what="the server to answer")
        if self.env["HAZMON_MQTT_URL"]:
            wait_until(lambda: self.health().get("mqtt") == "connected", timeout=30, what="MQTT ingest")

    def health(self) -> dict[str, str]:
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=2).json()
        except httpx.HTTPError:
            return {}

    def admin_token(self) -> str:
        if self._admin is None:  # one admin per server object: replicas may share one database
            user = f"faults-admin-{self.name}"
            self.cli("user", "add", user, "--role", "admin", stdin="a-long-password\n")
            self._admin = self.cli("api-token", "create", "--user", user)
        return self._admin

    def get(self, path: str, **params: object) -> object:
        r = httpx.get(
            f"{self.url}/api/v1{path}",
            params=params,
            headers={"Authorization": f"Bearer {self.admin_token()}"},
            timeout=30,
        )
        r.raise_for_status()
        return r.json()

    def stored(self, sensors: list[str]) -> list[tuple[str, str, int]]:
        out = []
        for sensor in sensors:
            try:
                body = self.get("/readings", sensor=sensor, limit=100_000)
            except httpx.HTTPStatusError:
                continue
            out += [(r["sensor"], r["quantity"], r["ts"]) for r in body["readings"]]  # type: ignore[index]
        return out

    def gaps(self) -> list[object]:
        return [g for a in self.get("/agents") for g in a["gaps"]]  # type: ignore[union-attr,index]


class AgentProc(Proc):
    def __init__(
        self,
        directory: Path,
        server: Server,
        *,
        uplink: str,
        mqtt_url: str = "",
        samples: int = 200,
        interval_s: float = 0.05,
        mqtt_extra: str = "",
    ) -> None:
        token = server.cli("agent-token", "create", "--site", "faults", "--agent", "gw-1")
        if uplink == "mqtt":
            up = f'type = "mqtt"\nurl = "{mqtt_url}"\nack_timeout_s = 5.0\nstatus_interval_s = 2.0\n{mqtt_extra}'
        else:
            up = f'type = "http"\nurl = "{server.url}"\ntoken = "{token}"\nstatus_interval_s = 2.0\n'
        self.sensors = ["f-noise", "f-gas"]
        cfg = directory / "agent.toml"
        cfg.write_text(
            f'schema_version = 1\nsite = "faults"\nagent = "gw-1"\ndata_dir = "{directory}/agent"\n'
            f"[uplink]\n{up}"
            "[outbox]\nflush_interval_s = 0.2\n"
            + "".join(
                f'[[sources]]\ntype = "simulator"\nname = "{name}"\nkind = "{kind}"\ninterval_s = {interval_s}\n'
                f"samples = {samples}\n"
                for name, kind in (("f-noise", "noise"), ("f-gas", "gas"))
            )
        )
        self.expected = samples * (1 + 3)  # noise: laeq; gas: co, h2s, o2
        self.outbox_path = directory / "agent" / "outbox-gw-1.db"
        super().__init__("agent", [*HAZMON, "agent", "run", "-c", str(cfg)], log=directory / "agent.log")

    def outbox(self) -> dict[str, int]:
        import sqlite3

        empty = {"pending_batches": 0, "pending_readings": 0, "written_readings": 0, "last_seq": 0}
        if not self.outbox_path.exists():
            return empty
        db = sqlite3.connect(self.outbox_path)
        try:
            batches, readings = db.execute("SELECT COUNT(*), COALESCE(SUM(n_readings), 0) FROM batches").fetchone()
            written = db.execute("SELECT COALESCE(SUM(n_readings), 0), COALESCE(MAX(seq), 0) FROM journal").fetchone()
        except sqlite3.OperationalError:  # the agent is still creating its tables
            return empty
        finally:
            db.close()
        return {
            "pending_batches": batches,
            "pending_readings": readings,
            "written_readings": written[0],
            "last_seq": written[1],
        }

    def journal(self) -> dict[int, int]:
        import sqlite3

        db = sqlite3.connect(self.outbox_path)
        try:
            return dict(db.execute("SELECT seq, n_readings FROM journal"))
        finally:
            db.close()


@pytest.fixture
def fresh_postgres() -> Iterator[str]:
    """An empty PostgreSQL database of its own, migrated, dropped afterwards (for several server processes)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from tests.conftest import PG_ADMIN_URL

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"hazmon_faults_{os.getpid()}_{int(time.time() * 1000) % 10**8}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        service_missing(f"PostgreSQL ({exc.orig})")
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    subprocess.run(
        [*HAZMON, "server", "db", "upgrade"],
        env={**os.environ, "HAZMON_DATABASE_URL": url},
        check=True,
        capture_output=True,
    )
    yield url
    with admin.connect() as conn:
        conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def make_certificates(directory: Path) -> Path:
    """A throwaway CA and a broker certificate for 127.0.0.1, made with the openssl command. Returns the CA."""
    if shutil.which("openssl") is None:
        service_missing("openssl")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, cwd=directory, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=hazmon test CA",
    )
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=127.0.0.1")
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run(
        "x509",
        "-req",
        "-in",
        "broker.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "broker.pem",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    )
    return directory / "ca.pem"


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    """Every process a test starts goes in this list and is stopped at the end, whatever happens."""
    started: list[Proc] = []
    yield started
    for p in reversed(started):
        p.kill()


def dump_logs(directory: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in directory.glob("*.log"))


__all__ = ["AgentProc", "Influxd", "Mosquitto", "Server", "dump_logs", "json", "wait_until"]

"""Real processes for the fault-injection suite: Mosquitto, InfluxDB, the hazmon server and agent, each
started, stopped and SIGKILLed on loopback ports in a temporary directory (the kit's starters, with the suite's
choices: a broker that keeps its queues on disk, every log in the test's directory)."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.kit import mosquitto
from tests.kit.influxd import Influxd
from tests.kit.processes import Proc
from tests.kit.require import service_missing
from tests.kit.server import HAZMON, ServerProcess

__all__ = ["AgentProc", "Influxd", "Mosquitto", "Proc", "Server", "SitePublisher", "dump_logs",
           "make_certificates"]


class Mosquitto(mosquitto.Mosquitto):
    """A broker that keeps queued messages and sessions on disk across a restart, as a production broker does."""

    def __init__(self, directory: Path, *, extra_conf: str = "", anonymous: bool = True) -> None:
        super().__init__(directory, extra_conf=extra_conf, anonymous=anonymous, persistence=True,
                         max_queued_messages=100_000)


class Server(ServerProcess):
    """`hazmon server run` with its data in `directory/server` and its log in `directory/<name>.log`;
    `extra_env` holds HAZMON_* variables (a shared database, a CA file)."""

    def __init__(self, directory: Path, *, mqtt_url: str = "", influx_url: str = "", name: str = "server",
                 extra_env: dict[str, str] | None = None) -> None:
        settings = {k.removeprefix("HAZMON_").lower(): v for k, v in (extra_env or {}).items()}
        super().__init__(directory / "server", name=name, mqtt_url=mqtt_url, influx_url=influx_url,
                         log_dir=directory, **settings)

    def stored(self, sensors: list[str]) -> list[tuple[str, str, int]]:
        out = []
        for sensor in sensors:
            try:
                body = self.get("/readings", sensor=sensor, limit=100_000)
            except httpx.HTTPStatusError:
                continue
            out += [(r["sensor"], r["quantity"], r["ts"]) for r in body["readings"]]
        return out

    def gaps(self) -> list[object]:
        return [g for a in self.get("/agents") for g in a["gaps"]]

    def edge_gaps(self) -> list[dict[str, object]]:
        return [g for a in self.get("/agents") for g in a["edge_gaps"]]


class AgentProc(Proc):
    def __init__(
        self,
        directory: Path,
        server: Server,
        *,
        uplink: str,
        mqtt_url: str = "",
        samples: int = 200,
        interval_s: float = 0.02,
        mqtt_extra: str = "",
        retry_max_s: float = 2.0,
        ack_timeout_s: float = 5.0,
        data_dir: Path | None = None,
        outbox_extra: str = "",
        site_broker: str = "",
        site_sensors: int = 10,
        sources_toml: str = "",
        sensors: list[str] | None = None,
    ) -> None:
        """Simulated sources by default; with `site_broker` (a URL), one mqtt_input source reading the
        `site_sensors` sensors a `SitePublisher` publishes there, in a persistent session."""
        token = server.agent_token("faults", "gw-1")
        if uplink == "mqtt":
            up = (f'type = "mqtt"\nurl = "{mqtt_url}"\ntoken = "{token}"\nack_timeout_s = {ack_timeout_s}\n'
                  f'status_interval_s = 2.0\nretry_max_s = {retry_max_s}\n{mqtt_extra}')
        else:
            up = (f'type = "http"\nurl = "{server.url}"\ntoken = "{token}"\nstatus_interval_s = 2.0\n'
                  f'retry_max_s = {retry_max_s}\n')
        cfg = directory / "agent.toml"
        data_dir = data_dir or directory / "agent"
        if sources_toml:
            self.sensors, sources = list(sensors or []), sources_toml
        elif site_broker:
            self.sensors = SitePublisher.sensor_names(site_sensors)
            sources = (f'[[sources]]\ntype = "mqtt_input"\nname = "site"\nurl = "{site_broker}"\n'
                       'topics = ["site/+"]\nsensor = "{topic[1]}"\ntimestamp_path = "ts"\n'
                       'timestamp_format = "epoch_ms"\nreconnect_max_s = 1.0\n'
                       '[[sources.mappings]]\npath = "co"\nquantity = "co"\nunit = "ppm"\n')
        else:
            self.sensors = ["f-noise", "f-gas"]
            sources = "".join(
                f'[[sources]]\ntype = "simulator"\nname = "{name}"\nkind = "{kind}"\ninterval_s = {interval_s}\n'
                f"samples = {samples}\n"
                for name, kind in (("f-noise", "noise"), ("f-gas", "gas"))
            )
        cfg.write_text(
            f'schema_version = 1\nsite = "faults"\nagent = "gw-1"\ndata_dir = "{data_dir}"\n'
            f"[uplink]\n{up}"
            f"[outbox]\nflush_interval_s = 0.2\n{outbox_extra}" + sources
        )
        self.expected = samples * (1 + 3)  # noise: laeq; gas: co, h2s, o2
        self.outbox_path = data_dir / "outbox-gw-1.db"
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


class SitePublisher:
    """Sensors on a site broker, as in the delivery issue's harness: `sensors` sensors, `rate` messages a
    second in all, each `{"ts": ms, "co": value}` on `site/<sensor>` at QoS 1, from a thread. `published` counts
    the messages the broker acknowledged."""

    def __init__(self, broker: mosquitto.Mosquitto, *, sensors: int = 10, rate: float = 200.0,
                 messages: int = 3000) -> None:
        self.broker, self.rate, self.messages = broker, rate, messages
        self.names = self.sensor_names(sensors)
        self.published = 0
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @staticmethod
    def sensor_names(n: int) -> list[str]:
        return [f"site-{k:02d}" for k in range(n)]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import paho.mqtt.client as mqtt

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="site-publisher")
        try:
            client.connect("127.0.0.1", self.broker.port)
            client.loop_start()
            start = time.monotonic()
            base_ms = int(time.time() * 1000)
            for i in range(self.messages):
                name = self.names[i % len(self.names)]
                payload = json.dumps({"ts": base_ms + i, "co": float(i % 50)})
                info = client.publish(f"site/{name}", payload, qos=1)
                info.wait_for_publish(timeout=30)
                self.published += 1
                delay = start + (i + 1) / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            client.loop_stop()
            client.disconnect()
        except BaseException as exc:  # reported by wait()
            self.error = exc

    def wait(self, timeout: float = 120.0) -> int:
        assert self._thread is not None
        self._thread.join(timeout)
        if self.error is not None:
            raise self.error
        assert not self._thread.is_alive(), "the publisher did not finish"
        return self.published


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



"""An InfluxDB 1.x server (Debian's influxd) of the test's own, on free loopback ports in a temporary directory."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.kit.ports import free_port
from tests.kit.processes import Proc
from tests.kit.require import binary
from tests.kit.waiting import wait_for


class Influxd(Proc):
    def __init__(self, directory: Path) -> None:
        exe = binary("influxd", package="influxdb")
        directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        conf = directory / "influxdb.conf"
        conf.write_text(
            f'reporting-disabled = true\nbind-address = "127.0.0.1:{free_port()}"\n'
            f'[meta]\n  dir = "{directory}/meta"\n'
            f'[data]\n  dir = "{directory}/data"\n  wal-dir = "{directory}/wal"\n  query-log-enabled = false\n'
            f'[http]\n  enabled = true\n  bind-address = "127.0.0.1:{self.port}"\n  log-enabled = false\n'
            "[monitor]\n  store-enabled = false\n"
        )
        super().__init__("influxd", [exe, "-config", str(conf)], log=directory / "influxd.log")

    def start(self) -> None:
        super().start()
        wait_for(self._pings, timeout=30, what="influxd to answer /ping")

    def _pings(self) -> bool:
        self.alive_or_fail()
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/ping", timeout=1).status_code == 204
        except httpx.HTTPError:
            return False

    @property
    def url(self) -> str:
        """The URL the server takes (HAZMON_INFLUX_URL), database `hazmon`."""
        return f"http://127.0.0.1:{self.port}/hazmon"

    def count(self, measurement: str = "readings") -> int:
        r = httpx.get(
            f"http://127.0.0.1:{self.port}/query",
            params={"db": "hazmon", "q": f'SELECT count("value") FROM "{measurement}"'},
            timeout=10,
        )
        series = r.json()["results"][0].get("series")
        return int(series[0]["values"][0][1]) if series else 0

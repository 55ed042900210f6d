"""A real hazmon server as a child process (`python -m hazmon server run`) on a free loopback port, and the
`hazmon server ...` admin commands run against the same data dir. Shared by the integration, live-page and CLI
tests (imported by path: the test folders are not packages)."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent


def root_conftest() -> ModuleType:
    """tests/conftest.py as a module, for `free_port()` and `service_missing()` (a plain `import conftest`
    would get whichever conftest pytest loaded last)."""
    name = "_hazmon_tests_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TESTS / "conftest.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def free_port() -> int:
    return int(root_conftest().free_port())


def service_missing(what: str) -> None:
    root_conftest().service_missing(what)


def hazmon_env(**settings: str) -> dict[str, str]:
    """The environment for a `python -m hazmon` child: no inherited HAZMON_* settings, then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAZMON_")}
    env.update({f"HAZMON_{k.upper()}": str(v) for k, v in settings.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


def poll_until(condition: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Call `condition` until it returns something truthy, or raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)  # polling interval of a condition with a deadline, not a wait for an event


class ServerProcess:
    """`hazmon server run` in a child process; `start()` returns once /api/v1/health answers."""

    def __init__(self, data_dir: Path, *, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = hazmon_env(data_dir=str(data_dir), port=str(self.port), log_level="warning")
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, *, timeout: float = 30.0) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        log = open(self.data_dir / f"server-{self.starts}.log", "wb")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hazmon", "server", "run"], env=self.env, cwd=REPO,
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        poll_until(self._healthy, timeout=timeout, what=f"the server on {self.url} to answer /api/v1/health")

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"the server exited with {self.proc.returncode}:\n{self.log()}")
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def log(self) -> str:
        return (self.data_dir / f"server-{self.starts}.log").read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, like a power cut for the process."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """`python -m hazmon server ARGS` against this server's data dir; fails the test on a non-zero exit."""
        done = subprocess.run(
            [sys.executable, "-m", "hazmon", "server", *args], env=self.env, cwd=REPO, input=stdin,
            capture_output=True, text=True, timeout=60,
        )
        assert done.returncode == 0, f"hazmon server {' '.join(args)} failed: {done.stderr}"
        return done

    def agent_token(self, site: str, agent: str) -> str:
        return self.cli("agent-token", "create", "--site", site, "--agent", agent).stdout.strip()

    def admin_token(self, name: str = "admin", password: str = "correct horse battery") -> str:
        self.cli("user", "add", name, "--role", "admin", stdin=password + "\n")
        return self.cli("api-token", "create", "--user", name, "--label", "tests").stdout.strip()

    def readings(self, token: str, sensor: str) -> list[dict[str, Any]]:
        """Every stored reading of a sensor, oldest first."""
        body = self.get("/readings", token, sensor=sensor, limit=100_000)
        return body["readings"] if isinstance(body, dict) else body  # {"sensor", "readings", "coverage"}

    def get(self, path: str, token: str, **params: Any) -> Any:
        r = httpx.get(f"{self.url}/api/v1{path}", params=params, headers={"Authorization": f"Bearer {token}"},
                      timeout=10)
        r.raise_for_status()
        return r.json()

"""Plugin test fixtures: a fixed clock, a pseudo-terminal serial device and a real mosquitto broker."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

# The repository root first: with tests/ on sys.path (tests/conftest.py), `plugins` and `agent` would
# otherwise resolve to the test folders as namespace packages. Then plugin_testkit, whatever the import mode.
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from plugin_testkit import FakeDevice, FixedClock, free_port

MOSQUITTO = "/usr/sbin/mosquitto"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def fake_device(tmp_path: Path) -> Iterator[FakeDevice]:
    dev = FakeDevice(tmp_path / "ttyUSB0")
    yield dev
    dev.close()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real mosquitto broker on a free loopback port, anonymous access, for the session."""
    binary = MOSQUITTO if os.path.exists(MOSQUITTO) else shutil.which("mosquitto")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mosquitto is not installed; CI must provide /usr/sbin/mosquitto")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto) - the MQTT input tests need a broker")
    conf_dir = tmp_path_factory.mktemp("mosquitto")
    port = free_port()
    conf = conf_dir / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc.stdout else ""
                proc.kill()
                pytest.fail(f"mosquitto did not start: {out}")
            time.sleep(0.05)  # polling a startup condition with a deadline
    yield "127.0.0.1", port
    proc.terminate()
    proc.wait(timeout=10)

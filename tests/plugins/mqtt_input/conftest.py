"""A broker the test owns: started, stopped and started again on the same port (reconnect tests), with
optional extra mosquitto configuration (passwords, TLS)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from plugin_testkit import free_port

MOSQUITTO = "/usr/sbin/mosquitto"


class Broker:
    """One mosquitto process at a time on a fixed loopback port."""

    def __init__(self, binary: str, conf_dir: Path, *, extra_conf: str = "") -> None:
        self.binary = binary
        self.conf_dir = conf_dir
        self.port = free_port()
        self.extra_conf = extra_conf
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        conf = self.conf_dir / "mosquitto.conf"
        anonymous = "" if "allow_anonymous" in self.extra_conf else "allow_anonymous true\n"
        # started as root, mosquitto switches to the user "mosquitto", which cannot read files under tmp_path
        user = "user root\n" if os.geteuid() == 0 else ""
        conf.write_text(f"{user}listener {self.port} 127.0.0.1\n{anonymous}persistence false\n{self.extra_conf}")
        self.proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    out = self.proc.stdout.read().decode() if self.proc.stdout else ""
                    self.stop()
                    pytest.fail(f"mosquitto did not start on port {self.port}: {out}")
                time.sleep(0.05)  # polling a startup condition with a deadline

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            if self.proc.stdout:
                self.proc.stdout.close()
            self.proc = None


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator:
    """Make function-scoped brokers: `broker_factory(extra_conf="...")` returns a started Broker."""
    binary = MOSQUITTO if os.path.exists(MOSQUITTO) else shutil.which("mosquitto")
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("mosquitto is not installed; CI must provide /usr/sbin/mosquitto")
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    brokers: list[Broker] = []

    def make(*, extra_conf: str = "") -> Broker:
        conf_dir = tmp_path / f"broker{len(brokers)}"
        conf_dir.mkdir()
        broker = Broker(binary, conf_dir, extra_conf=extra_conf)
        brokers.append(broker)
        broker.start()
        return broker

    yield make
    for broker in brokers:
        broker.stop()

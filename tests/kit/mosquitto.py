"""A Mosquitto broker of the test's own: its own config on a free loopback port in a temporary directory."""

from __future__ import annotations

import os
from pathlib import Path

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from exposure import wire
from tests.kit.ports import free_port, port_open
from tests.kit.processes import Proc
from tests.kit.require import binary
from tests.kit.waiting import wait_for


def signed(token: str) -> Properties:
    """The PUBLISH properties an agent sends: its bearer token as the `authorization` user property."""
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [(wire.AUTH_PROPERTY, wire.bearer(token))]
    return props


class Mosquitto(Proc):
    """`extra_conf` is appended to the config (passwords, TLS listeners' files); `persistence` keeps queued
    messages and sessions in `directory` across a stop and start, as a production broker does. The port stays
    the same across restarts (reconnect tests)."""

    def __init__(self, directory: Path, *, extra_conf: str = "", anonymous: bool = True, persistence: bool = False,
                 max_queued_messages: int | None = None) -> None:
        exe = binary("mosquitto", package="mosquitto", candidates=("/usr/sbin/mosquitto",))
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.extra_conf = extra_conf
        self.anonymous = anonymous
        self.persistence = persistence
        self.max_queued_messages = max_queued_messages
        self.port = free_port()
        self.conf = directory / "mosquitto.conf"
        super().__init__("mosquitto", [exe, "-c", str(self.conf)], log=directory / "mosquitto.log")

    def _write_conf(self) -> None:
        lines = [f"listener {self.port} 127.0.0.1", "set_tcp_nodelay true"]  # as docs/delivery.md advises
        if os.geteuid() == 0:  # as root, mosquitto drops to its own user, who cannot read the test's temp dir
            lines.insert(0, "user root")
        if "allow_anonymous" not in self.extra_conf:
            lines.append(f"allow_anonymous {str(self.anonymous).lower()}")
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.directory}/"]
        else:
            lines.append("persistence false")
        if self.max_queued_messages is not None:
            lines.append(f"max_queued_messages {self.max_queued_messages}")
        self.conf.write_text("\n".join(lines) + "\n" + self.extra_conf)

    def start(self) -> None:
        may_move = self.starts == 0  # a restart keeps its port: clients reconnect to the same address
        for attempt in range(3):
            self._write_conf()
            super().start()
            try:
                wait_for(self._listening, timeout=10, what=f"mosquitto to listen on {self.port}")
                return
            except AssertionError:
                taken = "Address already in use" in self.log_text()
                self.kill()
                if not (may_move and taken) or attempt == 2:
                    raise
                self.port = free_port()  # another process took the port between free_port() and the bind

    def _listening(self) -> bool:
        self.alive_or_fail()
        return port_open(self.port)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def address(self) -> tuple[str, int]:
        return "127.0.0.1", self.port

"""Plugin test fixtures: a fixed clock, a pseudo-terminal serial device and a real mosquitto broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.clock import Clock
from tests.kit.mosquitto import Mosquitto
from tests.plugins.plugin_testkit import FakeDevice, fixed_clock


@pytest.fixture
def clock() -> Clock:
    return fixed_clock()


@pytest.fixture
def fake_device(tmp_path: Path) -> Iterator[FakeDevice]:
    dev = FakeDevice(tmp_path / "ttyUSB0")
    yield dev
    dev.close()


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A real mosquitto broker on a free loopback port, anonymous access, for the session."""
    broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    broker.start()
    yield broker.address
    broker.stop()

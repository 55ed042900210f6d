"""Brokers the test owns: started, stopped and started again on the same port (reconnect tests), with optional
extra mosquitto configuration (passwords, TLS)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.kit.mosquitto import Mosquitto


@pytest.fixture
def broker_factory(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    """Make function-scoped brokers: `broker_factory(extra_conf="...")` returns a started broker."""
    brokers: list[Mosquitto] = []

    def make(*, extra_conf: str = "") -> Mosquitto:
        broker = Mosquitto(tmp_path / f"broker{len(brokers)}", extra_conf=extra_conf)
        brokers.append(broker)
        broker.start()
        return broker

    yield make
    for broker in brokers:
        broker.stop()

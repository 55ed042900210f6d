"""The shared serial transport: reads and writes over a pty, and reopens the port after an unplug."""

from __future__ import annotations

import asyncio

import pytest

from agent.probe import SourceCounters
from agent.serial_port import PortClosed, SerialPort, SerialSourceConfig
from tests.kit.waiting import wait_for_async
from tests.plugins.plugin_testkit import FakeDevice


@pytest.fixture
def device(tmp_path):
    dev = FakeDevice(tmp_path / "ttyUSB0")
    yield dev
    dev.close()


def _port(device: FakeDevice, counters: SourceCounters, opened: list[int] | None = None) -> SerialPort:
    cfg = SerialSourceConfig(type="test", name="s1", port=device.path, reopen_max_s=0.05)

    async def on_open(port: SerialPort) -> None:
        if opened is not None:
            opened.append(1)
        await port.write(b"HELLO")

    return SerialPort(cfg, counters=counters, on_open=on_open, reopen_initial_s=0.01)


async def test_bytes_pass_both_ways_unchanged(device):
    """Binary bytes, CR LF and XON/XOFF included, reach the reader unchanged; writes reach the device."""
    port = _port(device, SourceCounters())
    payload = bytes(range(256))
    read = asyncio.create_task(port.read(1024))
    await wait_for_async(lambda: port.is_open, what="port open")
    device.send(payload)
    got = await asyncio.wait_for(read, 5)
    while len(got) < len(payload):
        got += await asyncio.wait_for(port.read(1024), 5)
    assert got == payload
    await wait_for_async(lambda: b"HELLO" in device.received(), what="on_open write")
    await port.aclose()


async def test_port_reopens_after_unplug_and_replug(device):
    """Unplugging the adapter loses the port; when it comes back the port reopens, on_open runs again and
    reads continue. The reopen is counted."""
    counters = SourceCounters()
    opened: list[int] = []
    port = _port(device, counters, opened)
    read = asyncio.create_task(port.read())
    await wait_for_async(lambda: port.is_open, what="port open")
    device.send(b"one")
    assert await asyncio.wait_for(read, 5) == b"one"

    device.unplug()
    read = asyncio.create_task(port.read())
    await wait_for_async(lambda: counters.read_errors >= 2, what="loss and failed reopen counted")
    assert not read.done()
    device.replug()
    await wait_for_async(lambda: counters.reopens == 1, what="reopen")
    device.send(b"two")
    assert await asyncio.wait_for(read, 5) == b"two"
    assert len(opened) == 2
    await port.aclose()


async def test_missing_device_is_retried_not_fatal(tmp_path):
    """A port that does not exist yet is retried with backoff; each failure is counted, nothing raises."""
    cfg = SerialSourceConfig(type="test", name="s1", port=str(tmp_path / "absent"), reopen_max_s=0.02)
    counters = SourceCounters()
    port = SerialPort(cfg, counters=counters, reopen_initial_s=0.01)
    read = asyncio.create_task(port.read())
    await wait_for_async(lambda: counters.read_errors >= 3, what="three failed opens")
    assert "cannot open" in (counters.last_error or "")
    await port.aclose()
    with pytest.raises(PortClosed):
        await asyncio.wait_for(read, 5)

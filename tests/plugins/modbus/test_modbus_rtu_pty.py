"""Modbus RTU over a real serial path: a pymodbus RTU server on one pseudo-terminal, the plugin's client (pyserial
through pymodbus) on another, and a bridge thread between their masters that records every byte on the wire.

Two transmitters (device ids 1 and 2) share the one line, as on an RS-485 bus: the wire log shows each request
answered before the next one starts, with valid CRCs, whatever order the sources poll in."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import threading
import tty
import warnings
from collections.abc import AsyncIterator

import pytest

from plugins.modbus.decode import crc16_modbus
from plugins.modbus.source import ModbusConfig, ModbusSource
from tests.kit.waiting import wait_for_async
from tests.plugins.plugin_testkit import FIXED_TS, fixed_clock

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from pymodbus import FramerType
    from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
    from pymodbus.server import ModbusSerialServer


class PtyBridge:
    """Two pty pairs joined master to master: programs open `path_a` and `path_b` like two ends of a cable.
    Every chunk copied is logged as ("a->b" | "b->a", bytes), in wire order."""

    def __init__(self) -> None:
        self.master_a, self._slave_a = os.openpty()
        self.master_b, self._slave_b = os.openpty()
        for fd in (self.master_a, self._slave_a, self.master_b, self._slave_b):
            tty.setraw(fd)
        self.path_a, self.path_b = os.ttyname(self._slave_a), os.ttyname(self._slave_b)
        self.log: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._stop_r, self._stop_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="pty-bridge", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        route = {self.master_a: (self.master_b, "a->b"), self.master_b: (self.master_a, "b->a")}
        while True:
            ready, _, _ = select.select([self.master_a, self.master_b, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:  # the slave end is not open (yet, or any more)
                    continue
                target, direction = route[fd]
                with self._lock:
                    self.log.append((direction, data))
                os.write(target, data)

    def wire(self, direction: str) -> bytes:
        with self._lock:
            return b"".join(data for d, data in self.log if d == direction)

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self._thread.join(timeout=5)
        for fd in (self.master_a, self._slave_a, self.master_b, self._slave_b, self._stop_r, self._stop_w):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.fixture
async def rtu_line() -> AsyncIterator[PtyBridge]:
    """A pymodbus RTU server on end a: device 1 holds [658], device 2 holds [12, 34] (holding registers 0..)."""
    bridge = PtyBridge()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx = ModbusServerContext(
            devices={
                1: ModbusDeviceContext(hr=ModbusSequentialDataBlock(1, [658])),  # pymodbus stores address + 1
                2: ModbusDeviceContext(hr=ModbusSequentialDataBlock(1, [12, 34])),
            },
            single=False,
        )
        server = ModbusSerialServer(ctx, framer=FramerType.RTU, port=bridge.path_a, baudrate=9600)
    task = asyncio.create_task(server.serve_forever())
    await wait_for_async(lambda: server.is_active() or task.done(), what="RTU server on the pty")
    assert not task.done(), "the pymodbus serial server could not open the pty"
    yield bridge
    await server.shutdown()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    bridge.close()


def _source(port: str, name: str, unit_id: int, preset: str) -> ModbusSource:
    config = ModbusConfig(
        name=name, transport="rtu", port=port, baudrate=9600, unit_id=unit_id, preset=preset, timeout_s=1.0, retries=1
    )
    return ModbusSource(config, clock=fixed_clock())


def _frames(stream: bytes, sizes) -> list[bytes]:
    """Cut a wire stream into frames of the given sizes (request 8 bytes; response 5 + 2*count)."""
    out, i = [], 0
    for size in sizes:
        out.append(stream[i : i + size])
        i += size
    assert i == len(stream), f"{len(stream) - i} bytes on the wire that are not part of a frame"
    return out


def _crc_ok(frame: bytes) -> bool:
    return crc16_modbus(frame[:-2]).to_bytes(2, "little") == frame[-2:]


async def test_rtu_poll_over_a_pty_decodes_the_register(rtu_line):
    """The noise preset polls device 1 over a real serial line: 01 03 00 00 00 01 84 0A is answered with
    01 03 02 02 92 38 89 and decodes to 65.8 dB(A)."""
    source = _source(rtu_line.path_b, "press-hall-noise", 1, "noise_rs485")
    try:
        readings = await source.poll()
    finally:
        await source.aclose()
    assert [(r.sensor, r.quantity, r.value, r.unit, r.ts, r.interval_s, r.flags) for r in readings] == [
        ("press-hall-noise", "laeq", 65.8, "dB(A)", FIXED_TS, None, ())
    ]
    assert rtu_line.wire("b->a") == bytes.fromhex("010300000001840a")
    assert rtu_line.wire("a->b") == bytes.fromhex("01030202923889")
    assert source.counters.frames_ok == 1


async def test_two_devices_on_one_rtu_line_never_collide(rtu_line):
    """Devices 1 and 2 on one line, polled concurrently and repeatedly: one shared client, every request
    answered by the addressed device before the next request goes out, all CRCs valid."""
    noise = _source(rtu_line.path_b, "press-hall-noise", 1, "noise_rs485")
    dust = _source(rtu_line.path_b, "press-hall-dust", 2, "dust_rs485")
    try:
        results = await asyncio.gather(*(s.poll() for s in (noise, dust, noise, dust, dust, noise)))
        assert noise.bus is dust.bus
    finally:
        await noise.aclose()
        await dust.aclose()
    for batch, source in zip(results, (noise, dust, noise, dust, dust, noise), strict=True):
        got = [(r.sensor, r.quantity, r.value) for r in batch]
        if source is noise:
            assert got == [("press-hall-noise", "laeq", 65.8)]
        else:
            assert got == [("press-hall-dust", "pm2_5", 12.0), ("press-hall-dust", "pm10", 34.0)]

    # the wire, in order: strictly request, answer, request, answer ...
    directions = []
    for direction, _ in rtu_line.log:
        if not directions or directions[-1] != direction:
            directions.append(direction)
    requests = _frames(rtu_line.wire("b->a"), [8] * (directions.count("b->a")))
    assert directions == ["b->a", "a->b"] * len(requests)
    # noise polls 1 register; dust polls 2 registers, one request each (dust_rs485 maps registers 0 and 1)
    responses = _frames(rtu_line.wire("a->b"), [5 + 2 * int.from_bytes(r[4:6], "big") for r in requests])
    assert len(requests) == 3 + 3 * 2
    for request, response in zip(requests, responses, strict=True):
        assert _crc_ok(request) and _crc_ok(response)
        assert response[0] == request[0], "an answer from another device than the one asked"
        assert response[1] == 3
    assert sorted({r[0] for r in requests}) == [1, 2]

"""Modbus: register decoding, golden cases against an in-process pymodbus TCP server, shared buses, outages."""

from __future__ import annotations

import asyncio
import contextlib
import json
import tomllib
import warnings
from pathlib import Path

import pytest
from pydantic import ValidationError

from plugins.modbus.decode import DecodeError, crc16_modbus, decode_registers
from plugins.modbus.source import ModbusConfig, ModbusSource
from tests.kit.ports import free_port
from tests.kit.waiting import wait_for_async
from tests.plugins.plugin_testkit import FIXED_TS, fixed_clock

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    from pymodbus import FramerType
    from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
    from pymodbus.server import ModbusTcpServer

CASES = sorted(p for p in (Path(__file__).parent / "cases").iterdir() if p.is_dir())


class Server:
    """A pymodbus TCP server on loopback holding given registers for given device ids."""

    def __init__(self, devices: dict[int, dict[str, list[int]]], port: int) -> None:
        self.devices = devices
        self.port = port
        self.server: ModbusTcpServer | None = None
        self.task: asyncio.Task | None = None

    async def start(self) -> None:
        def block(values: list[int]) -> ModbusSequentialDataBlock:
            return ModbusSequentialDataBlock(1, values or [0])  # pymodbus stores address + 1

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx = ModbusServerContext(
                devices={
                    uid: ModbusDeviceContext(hr=block(regs.get("hr", [])), ir=block(regs.get("ir", [])))
                    for uid, regs in self.devices.items()
                },
                single=False,
            )
            self.server = ModbusTcpServer(ctx, framer=FramerType.SOCKET, address=("127.0.0.1", self.port))
        self.task = asyncio.create_task(self.server.serve_forever())
        await wait_for_async(lambda: self.server is not None and self.server.is_active(), what="modbus server")

    async def stop(self) -> None:
        assert self.server is not None and self.task is not None
        await self.server.shutdown()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task


def _source(port: int, **options) -> ModbusSource:
    table = {"name": "m1", "transport": "tcp", "host": "127.0.0.1", "tcp_port": port, "timeout_s": 0.3, **options}
    table.setdefault("retries", 0)
    return ModbusSource(ModbusConfig.model_validate(table), clock=fixed_clock())


@pytest.mark.parametrize(
    ("registers", "data_type", "orders", "expected"),
    [
        ([658], "uint16", {}, 658.0),
        ([0xFFFF], "int16", {}, -1.0),
        ([0xFFFF], "uint16", {}, 65535.0),
        ([0x0001, 0x0002], "uint32", {}, 65538.0),
        ([0x0002, 0x0001], "uint32", {"word_order": "little"}, 65538.0),
        ([0xFFFF, 0xFFFE], "int32", {}, -2.0),
        ([0x4049, 0x0FDB], "float32", {}, 3.1415927410125732),
        ([0x0FDB, 0x4049], "float32", {"word_order": "little"}, 3.1415927410125732),
        ([0x4940, 0xDB0F], "float32", {"byte_order": "little"}, 3.1415927410125732),
    ],
)
def test_registers_decode_by_type_and_order(registers, data_type, orders, expected):
    """Each data type decodes with its byte and word order (the 32-bit orders meters actually use)."""
    assert decode_registers(registers, data_type, **orders) == expected


def test_nan_float_is_rejected():
    """A float32 NaN (a transmitter's 'no value') is a decode error, never a reading."""
    with pytest.raises(DecodeError) as err:
        decode_registers([0x7FC0, 0x0000], "float32")
    assert err.value.reason == "not_finite"


def test_crc_matches_the_pymodbus_vectors():
    """CRC-16/MODBUS gives the textbook 0xDBE2 and the wire bytes of the generated response 01 03 02 02 92."""
    assert crc16_modbus(bytes.fromhex("1234234534564567")) == 0xDBE2
    assert crc16_modbus(bytes.fromhex("0103020292")).to_bytes(2, "little").hex() == "3889"


def test_config_requires_a_transport_target_and_registers():
    """rtu needs a port, tcp a host, and there must be a register map or a preset."""
    with pytest.raises(ValidationError, match="needs port"):
        ModbusConfig(name="m", preset="noise_rs485")
    with pytest.raises(ValidationError, match="needs host"):
        ModbusConfig(name="m", transport="tcp", preset="noise_rs485")
    with pytest.raises(ValidationError, match="registers is empty"):
        ModbusConfig(name="m", port="/dev/ttyUSB0")


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
async def test_golden_case(case):
    """Each case polls its device once from an in-process server and gets the expected readings and counters."""
    server_spec = json.loads((case / "server.json").read_text())
    port = free_port()
    server = Server({int(k): v for k, v in server_spec.items()}, port)
    await server.start()
    table = tomllib.loads((case / "config.toml").read_text())
    source = _source(port, **table)
    try:
        readings = await source.poll()
    finally:
        await source.aclose()
        await server.stop()
    want = [json.loads(line) for line in (case / "expected.jsonl").read_text().splitlines() if line.strip()]
    assert [r.to_dict() for r in readings] == want
    counters = source.counters.as_dict()
    for key, value in json.loads((case / "counters.json").read_text()).items():
        assert counters[key] == value, key


async def test_polling_survives_an_outage():
    """With the device gone, every poll is a counted gap (no reading, no exception); when it returns,
    readings resume on the next poll and the recovery is counted."""
    port = free_port()
    server = Server({1: {"hr": [658]}}, port)
    await server.start()
    source = _source(port, preset="noise_rs485")
    assert [r.value for r in await source.poll()] == [65.8]
    await server.stop()
    for _ in range(3):
        assert await source.poll() == []
    assert source.counters.read_errors == 3
    server = Server({1: {"hr": [701]}}, port)
    await server.start()
    assert [r.value for r in await source.poll()] == [70.1]
    assert source.counters.reopens == 1
    await source.aclose()
    await server.stop()


async def test_devices_on_one_bus_share_a_client_and_never_overlap():
    """Two sources on one bus use one client; polled concurrently, their requests are serialised by the
    bus lock and each gets its own device's values."""
    port = free_port()
    server = Server({1: {"hr": [658]}, 2: {"hr": [12, 34]}}, port)
    await server.start()
    noise = _source(port, preset="noise_rs485", unit_id=1)
    dust = ModbusSource(
        ModbusConfig(name="m2", transport="tcp", host="127.0.0.1", tcp_port=port, unit_id=2, preset="dust_rs485"),
        clock=fixed_clock(),
    )
    in_flight = 0
    overlap = False
    original = type(noise)._read

    async def tracked(self, bus, reg):
        nonlocal in_flight, overlap
        in_flight += 1
        overlap = overlap or in_flight > 1
        try:
            return await original(self, bus, reg)
        finally:
            in_flight -= 1

    type(noise)._read = tracked  # type: ignore[method-assign]
    try:
        results = await asyncio.gather(*(s.poll() for s in (noise, dust, noise, dust)))
    finally:
        type(noise)._read = original  # type: ignore[method-assign]
    assert noise.bus is dust.bus
    assert not overlap
    assert [r.value for r in results[0]] == [65.8]
    assert [(r.quantity, r.value) for r in results[1]] == [("pm2_5", 12.0), ("pm10", 34.0)]
    assert all(r.ts == FIXED_TS for batch in results for r in batch)
    await noise.aclose()
    await dust.aclose()
    await server.stop()

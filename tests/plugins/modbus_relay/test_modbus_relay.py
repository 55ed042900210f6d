"""The `modbus_coil` alarm output, against pymodbus's in-process Modbus TCP server."""

from __future__ import annotations

import asyncio
import tomllib
from pathlib import Path

import pytest
from pymodbus.client import ModbusTcpClient
from pymodbus.datastore import ModbusDeviceContext, ModbusSequentialDataBlock, ModbusServerContext
from pymodbus.server import ModbusTcpServer

from agent.alarms.outputs import AlarmSignal
from plugins.modbus_relay import ModbusCoilConfig, ModbusCoilOutput
from tests.kit.ports import free_port

FOLDER = Path(__file__).resolve().parents[3] / "plugins" / "modbus_relay"


def test_sample_output_validates():
    """The sample's modbus_coil table validates against the plugin's config model."""
    table = tomllib.loads((FOLDER / "sample.toml").read_text())["alarms"][0]["outputs"][1]
    assert ModbusCoilConfig.model_validate(table).coil == 0


async def coil(port: int, address: int) -> bool:
    """Read the coil back over Modbus TCP, as a SCADA would."""
    def read() -> bool:
        client = ModbusTcpClient("127.0.0.1", port=port)
        try:
            client.connect()
            return bool(client.read_coils(address, count=1, device_id=1).bits[0])
        finally:
            client.close()

    return await asyncio.to_thread(read)


async def test_coil_follows_the_alarm():
    """The coil is switched on while the alarm is active at or above min_severity, and off when it clears."""
    block = ModbusSequentialDataBlock(1, [0] * 16)
    context = ModbusServerContext(devices=ModbusDeviceContext(co=block), single=True)
    port = free_port()
    server = ModbusTcpServer(context, address=("127.0.0.1", port))
    task = asyncio.create_task(server.serve_forever())
    try:
        out = ModbusCoilOutput(ModbusCoilConfig(host="127.0.0.1", port=port, coil=3, min_severity="critical"))
        deadline = asyncio.get_running_loop().time() + 5
        while True:  # the server is listening once a connect succeeds
            try:
                await asyncio.to_thread(out.set, AlarmSignal("lel", "s", True, "warning", 12.0, "%LEL", 0))
                break
            except ConnectionError:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.05)
        assert await coil(port, 3) is False  # warning is below min_severity
        await asyncio.to_thread(out.set, AlarmSignal("lel", "s", True, "critical", 30.0, "%LEL", 1))
        assert await coil(port, 3) is True
        await asyncio.to_thread(out.set, AlarmSignal("lel", "s", False, None, 5.0, "%LEL", 2))
        assert await coil(port, 3) is False
        out.close()
    finally:
        await server.shutdown()
        task.cancel()


def test_unreachable_relay_raises():
    """A relay that cannot be reached raises, so the agent counts and logs the failure."""
    out = ModbusCoilOutput(ModbusCoilConfig(host="127.0.0.1", port=free_port(), coil=0, timeout_s=0.5))
    with pytest.raises(ConnectionError):
        out.set(AlarmSignal("lel", "s", True, "critical", 30.0, "%LEL", 0))

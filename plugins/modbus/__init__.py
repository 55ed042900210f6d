"""Modbus RTU (RS-485) and TCP transmitters for noise, dust and gas, through pymodbus."""

from agent import hookimpl
from plugins.modbus.source import ModbusSource


@hookimpl
def hazmon_agent_source_types() -> list[type]:
    return [ModbusSource]

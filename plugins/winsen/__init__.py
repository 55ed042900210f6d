"""Winsen ZE03/ZE07/ZE08/ZE15 gas modules and MH-Z19 CO2 sensors on a serial port."""

from agent import hookimpl
from plugins.winsen.source import WinsenSource


@hookimpl
def hazmon_agent_source_types() -> list[type]:
    return [WinsenSource]

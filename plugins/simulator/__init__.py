"""Simulated noise, dust and gas sensors, deterministic for a seed, with scripted scenarios."""

from agent import hookimpl
from plugins.simulator.source import SimulatorSource


@hookimpl
def hazmon_agent_source_types() -> list[type]:
    return [SimulatorSource]

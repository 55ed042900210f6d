"""Plantower PMS1003/5003/7003/A003 and PMS5003T dust sensors on a serial port."""

from agent import hookimpl
from plugins.plantower.source import PlantowerSource


@hookimpl
def hazmon_agent_source_types() -> list[type]:
    return [PlantowerSource]

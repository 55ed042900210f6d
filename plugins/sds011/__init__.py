"""Nova Fitness SDS011 (SDS018, SDS021) dust sensors on a serial port."""

from agent import hookimpl
from plugins.sds011.source import Sds011Source


@hookimpl
def hazmon_agent_source_types() -> list[type]:
    return [Sds011Source]

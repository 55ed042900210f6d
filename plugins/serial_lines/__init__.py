"""Instruments that print text lines over a serial port: sound level meters, dosimeters, gas monitors."""

from agent import hookimpl
from plugins.serial_lines.source import SerialLinesSource


@hookimpl
def hazmon_agent_source_types() -> list[type]:
    return [SerialLinesSource]

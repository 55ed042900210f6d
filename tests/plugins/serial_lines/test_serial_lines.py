"""serial_lines: golden cases, config validation, and a query-answer meter over a pseudo-terminal."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from plugins.serial_lines.source import SerialLinesConfig, SerialLinesSource
from tests.kit.waiting import wait_for_async
from tests.plugins.plugin_testkit import case_dirs, fixed_clock, run_case, stop

BASE = {"name": "meter", "port": "/dev/null"}


@pytest.mark.parametrize("case", case_dirs("serial_lines"), ids=lambda p: p.name)
def test_golden_case(case):
    """Each golden case parses to its expected readings and counters, whatever the chunking."""
    run_case("serial_lines", SerialLinesSource, case)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"format": "regex", "pattern": "(?P<x", "fields": {"x": {"quantity": "laeq", "unit": "dB(A)"}}}, "regular"),
        ({"format": "kv", "fields": {"x": {"quantity": "loudness", "unit": "dB(A)"}}}, "unknown quantity"),
        ({"format": "kv", "fields": {"x": {"quantity": "co", "unit": "dB(A)"}}}, "does not fit"),
        ({"format": "regex", "pattern": "(?P<a>.*)", "fields": {"b": {"quantity": "co", "unit": "ppm"}}}, "named"),
        ({"format": "csv", "columns": ["a"], "fields": {"b": {"quantity": "co", "unit": "ppm"}}}, "columns"),
        ({"fields": {"b": {"quantity": "co", "unit": "ppm"}}}, "format"),
    ],
)
def test_bad_mapping_is_a_config_error(options, message):
    """A mapping that cannot produce valid readings is refused when the config is checked, not at run time."""
    with pytest.raises(ValidationError, match=message):
        SerialLinesConfig(**BASE, **options)


def test_user_options_override_the_preset():
    """A preset provides defaults; an option given in the config wins."""
    cfg = SerialLinesConfig(**BASE, preset="nti_xl2_laeq", command="MEAS:SLM:123? LAEQ\r\n")
    assert cfg.command == "MEAS:SLM:123? LAEQ\r\n"
    assert cfg.format == "regex" and "laeq" in cfg.fields


def test_endless_line_is_dropped_and_counted():
    """A stream with no line end (wrong baud rate, binary device) is dropped past 4096 bytes and counted."""
    source = SerialLinesSource(SerialLinesConfig(**BASE, preset="dba_line"), clock=fixed_clock())
    assert source.feed(b"x" * 5000) == []
    assert source.counters.frames_bad["line_too_long"] == 1
    assert [r.value for r in source.feed(b"\n70.5 dBA\n")] == [70.5]


async def test_query_meter_over_the_port(fake_device):
    """With a command, the source asks every interval_s and parses the answer line (XL2 preset)."""
    cfg = SerialLinesConfig(name="xl2", port=fake_device.path, preset="nti_xl2_laeq", interval_s=0.01)
    source = SerialLinesSource(cfg, clock=fixed_clock())
    stream = source.readings()
    task = asyncio.create_task(anext(stream))
    sent = bytearray()

    def asked() -> bool:
        sent.extend(fake_device.received())
        return b"MEAS:SLM:123? LAEQ\n" in sent

    await wait_for_async(asked, what="the query")
    fake_device.send(b"53.8 dB, OK\r\n")
    reading = await asyncio.wait_for(task, 5)
    assert (reading.quantity, reading.value, reading.unit) == ("laeq", 53.8, "dB(A)")
    await stop(task, stream, source)

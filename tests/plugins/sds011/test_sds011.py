"""SDS011: golden cases, the datasheet's command frames, and the source over a pseudo-terminal."""

from __future__ import annotations

import asyncio

import pytest

from plugins.sds011 import frames
from plugins.sds011.source import Sds011Config, Sds011Source
from tests.kit.waiting import wait_for_async
from tests.plugins.plugin_testkit import case_dirs, fixed_clock, run_case, stop

DATASHEET_FRAME = bytes.fromhex("aac0d4043a0aa1601dab")
A160 = 0xA160


@pytest.mark.parametrize("case", case_dirs("sds011"), ids=lambda p: p.name)
def test_golden_case(case):
    """Each golden case decodes to its expected readings and counters, whatever the chunking."""
    run_case("sds011", Sds011Source, case)


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (frames.set_reporting_mode("query", device_id=A160), "aab402010100000000000000000000a16005ab"),
        (frames.query_data(), "aab404000000000000000000000000ffff02ab"),
        (frames.query_data(device_id=A160), "aab404000000000000000000000000a16005ab"),
        (frames.set_sleep(device_id=A160), "aab406010000000000000000000000a16008ab"),
        (frames.set_work(device_id=A160), "aab406010100000000000000000000a16009ab"),
        (frames.set_working_period(1, device_id=A160), "aab408010100000000000000000000a1600bab"),
        (frames.set_working_period(0, device_id=A160), "aab408010000000000000000000000a1600aab"),
        (frames.set_reporting_mode("active"), "aab402010000000000000000000000ffff01ab"),
    ],
)
def test_commands_match_the_datasheet_examples(built, expected):
    """Command frames are byte for byte the examples of the Nova Fitness protocol V1.3 and PyPMS."""
    assert built.hex() == expected


def test_replies_decode_with_their_command():
    """A reply (AA C5) decodes to its command, data bytes and device id: firmware 15-7-10 from A160."""
    reply = frames.decode_frame(bytes.fromhex("aac5070f070aa16028ab"))
    assert reply == frames.SdsReply(0x07, bytes([15, 7, 10]), A160)


def test_working_period_out_of_range_is_refused():
    """A working period above 30 minutes is refused by the builder and by the config model."""
    with pytest.raises(ValueError):
        frames.set_working_period(31)
    with pytest.raises(ValueError):
        Sds011Config(name="x", port="/dev/null", working_period_min=31)


async def test_query_mode_over_the_port(fake_device):
    """Query mode sets the reporting mode once, sends a query per poll, and decodes the data frame answer."""
    cfg = Sds011Config(name="dust", port=fake_device.path, interval_s=0.01)
    source = Sds011Source(cfg, clock=fixed_clock())
    stream = source.readings()
    task = asyncio.create_task(anext(stream))
    sent = bytearray()

    def asked() -> bool:
        sent.extend(fake_device.received())
        return frames.query_data() in sent

    await wait_for_async(asked, what="query command")
    assert sent.startswith(frames.set_reporting_mode("query"))
    fake_device.send(bytes.fromhex("aac5020101 00ffff 02ab".replace(" ", "")) + DATASHEET_FRAME)
    reading = await asyncio.wait_for(task, 5)
    assert (reading.quantity, reading.value, reading.unit) == ("pm2_5", 123.6, "ug/m3")
    assert source.counters.frames_ok == 1
    await stop(task, stream, source)


async def test_sleep_between_polls_wakes_reads_and_sleeps(fake_device):
    """With duty sleep_between_polls each poll sends work, waits the warm-up, queries, then sends sleep."""
    cfg = Sds011Config(name="dust", port=fake_device.path, duty="sleep_between_polls", wake_warmup_s=30)
    clock = fixed_clock()
    source = Sds011Source(cfg, clock=clock)
    stream = source.readings()
    task = asyncio.create_task(anext(stream))
    sent = bytearray()

    def asked() -> bool:
        sent.extend(fake_device.received())
        return frames.query_data() in sent

    await wait_for_async(asked, what="query after wake")
    assert sent.index(frames.set_work()) < sent.index(frames.query_data())
    assert 30 in clock.slept
    fake_device.send(DATASHEET_FRAME)
    assert (await asyncio.wait_for(task, 5)).value == 123.6
    await wait_for_async(lambda: frames.set_sleep() in sent + fake_device.received(), what="sleep command")
    await stop(task, stream, source)

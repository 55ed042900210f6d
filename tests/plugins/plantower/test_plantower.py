"""Plantower PMS frames: golden cases, commands, and the source over a pseudo-terminal."""

from __future__ import annotations

import asyncio

import pytest

from agent.framing import FrameError
from plugins.plantower import frames
from plugins.plantower.source import PlantowerConfig, PlantowerSource
from tests.kit.waiting import wait_for_async
from tests.plugins.plugin_testkit import FakeDevice, case_dirs, fixed_clock, run_case, stop

GOOD = bytes.fromhex("424d001c0005000d00160005000d001602fd00fc001d000f00060006970003c5")


@pytest.mark.parametrize("case", case_dirs("plantower"), ids=lambda p: p.name)
def test_golden_case(case):
    """Each golden case decodes to its expected readings and counters, whatever the chunking."""
    run_case("plantower", PlantowerSource, case)


def test_commands_match_the_documented_frames():
    """Host commands are 42 4D CMD DATAH DATAL plus the 16-bit sum (PyPMS and Adafruit frames)."""
    assert frames.CMD_PASSIVE_MODE.hex() == "424de100000170"
    assert frames.CMD_ACTIVE_MODE.hex() == "424de100010171"
    assert frames.CMD_READ.hex() == "424de200000171"
    assert frames.CMD_SLEEP.hex() == "424de400000173"
    assert frames.CMD_WAKE.hex() == "424de400010174"


def test_decode_frame_names_the_failure():
    """A single frame that fails a check raises FrameError with a stable reason."""
    with pytest.raises(FrameError) as err:
        frames.decode_frame(GOOD[:10], model="pms5003")
    assert err.value.reason == "bad_length"
    with pytest.raises(FrameError) as err:
        frames.decode_frame(GOOD[:-2] + b"\x00\x00", model="pms5003")
    assert err.value.reason == "bad_checksum"
    assert "0x03c5" in str(err.value)


def test_pms5003t_temperature_is_signed():
    """PMS5003T data 11 is a signed temperature: 0xFFEC is -2.0 °C."""
    body = bytearray(GOOD)
    body[24:26] = (0xFFEC).to_bytes(2, "big")
    body[30:32] = (sum(body[:30]) & 0xFFFF).to_bytes(2, "big")
    frame = frames.decode_frame(bytes(body), model="pms5003t")
    assert frame.temperature_c == -2.0
    assert frame.pc_5_0 is None and frame.pc_10 is None


def _source(device: FakeDevice, **options) -> PlantowerSource:
    cfg = PlantowerConfig(name="dust-1", port=device.path, **options)
    return PlantowerSource(cfg, clock=fixed_clock())


async def test_active_mode_reads_frames_from_the_port(fake_device):
    """In active mode the source sets active mode once and decodes pushed frames from the serial port."""
    source = _source(fake_device, mode="active")
    stream = source.readings()
    first = asyncio.create_task(anext(stream))
    await wait_for_async(lambda: fake_device.received() == frames.CMD_ACTIVE_MODE or first.done(), what="active cmd")
    fake_device.send(b"\x00\x01" + GOOD)
    reading = await asyncio.wait_for(first, 5)
    assert (reading.quantity, reading.value, reading.unit) == ("pm1", 5.0, "ug/m3")
    assert source.counters.frames_ok == 1
    await stream.aclose()
    await source.aclose()


async def test_passive_mode_asks_and_decodes_the_answer(fake_device):
    """In passive mode the source sends passive mode, then a read command per poll, and decodes the answer."""
    source = _source(fake_device, mode="passive", interval_s=0.01)
    stream = source.readings()
    first = asyncio.create_task(anext(stream))
    sent = bytearray()

    def asked() -> bool:
        sent.extend(fake_device.received())
        return frames.CMD_READ in sent

    await wait_for_async(asked, what="read command")
    assert sent.startswith(frames.CMD_PASSIVE_MODE)
    fake_device.send(GOOD)
    reading = await asyncio.wait_for(first, 5)
    assert reading.quantity == "pm1" and reading.value == 5.0
    await stream.aclose()
    await source.aclose()


async def test_passive_mode_without_answer_is_a_gap(fake_device):
    """No answer to a read command is a counted failed read that yields no reading, never a 0."""
    source = _source(fake_device, mode="passive", interval_s=0.01, response_timeout_s=0.05)
    stream = source.readings()
    task = asyncio.create_task(anext(stream))
    await wait_for_async(lambda: source.counters.read_errors >= 2, what="two timeouts")
    assert not task.done()
    assert "no answer" in (source.counters.last_error or "")
    await stop(task, stream, source)

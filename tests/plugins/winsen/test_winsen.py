"""Winsen ZE-series and MH-Z19: golden cases, command frames, config rules, and QA over a pseudo-terminal."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import ValidationError

from plugins.winsen import frames
from plugins.winsen.source import WinsenConfig, WinsenSource
from tests.kit.waiting import wait_for_async
from tests.plugins.plugin_testkit import case_dirs, fixed_clock, run_case, stop


@pytest.mark.parametrize("case", case_dirs("winsen"), ids=lambda p: p.name)
def test_golden_case(case):
    """Each golden case decodes to its expected readings and counters, whatever the chunking."""
    run_case("winsen", WinsenSource, case)


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        (frames.CMD_READ, "ff0186000000000079"),
        (frames.CMD_MHZ19_ZERO, "ff0187000000000078"),
        (frames.command(0x88, b"\x03\xe8"), "ff018803e80000008c"),
        (frames.CMD_MHZ19_ABC_ON, "ff0179a000000000e6"),
        (frames.CMD_MHZ19_ABC_OFF, "ff0179000000000086"),
        (frames.MODE_COMMANDS["ze03"]["qa"], "ff0178040000000083"),
        (frames.MODE_COMMANDS["ze03"]["initiative"], "ff0178030000000084"),
        (frames.MODE_COMMANDS["ze07"]["qa"], "ff0178410000000046"),
        (frames.MODE_COMMANDS["ze07"]["initiative"], "ff0178400000000047"),
    ],
)
def test_commands_match_the_documented_frames(built, expected):
    """Host commands carry the two's-complement checksum the datasheets, PyPMS and ESPHome use."""
    assert built.hex() == expected


def test_ze03_in_qa_mode_requires_the_gas():
    """A ZE03 answer does not name its gas, so qa mode without `gas` is a config error."""
    with pytest.raises(ValidationError, match="needs gas"):
        WinsenConfig(name="g", port="/dev/null", model="ze03", mode="qa")


def test_mhz19_has_no_initiative_mode():
    """The MH-Z19 only answers questions; initiative mode is refused at config time."""
    with pytest.raises(ValidationError, match="mhz19"):
        WinsenConfig(name="g", port="/dev/null", model="mhz19", mode="initiative")


async def test_qa_mode_over_the_port(fake_device):
    """QA mode sets the ZE07 to question-answer after opening, sends the read command, decodes the answer."""
    cfg = WinsenConfig(name="co-1", port=fake_device.path, model="ze07", interval_s=0.01, decimals=1)
    source = WinsenSource(cfg, clock=fixed_clock())
    stream = source.readings()
    task = asyncio.create_task(anext(stream))
    sent = bytearray()

    def asked() -> bool:
        sent.extend(fake_device.received())
        return frames.CMD_READ in sent

    await wait_for_async(asked, what="read command")
    assert sent.startswith(frames.MODE_COMMANDS["ze07"]["qa"])
    answer = bytearray.fromhex("ff860025000000 0000".replace(" ", ""))
    answer[8] = frames.checksum(answer)
    fake_device.send(bytes(answer))
    reading = await asyncio.wait_for(task, 5)
    assert (reading.quantity, reading.value, reading.unit) == ("co", 3.7, "ppm")
    await stop(task, stream, source)

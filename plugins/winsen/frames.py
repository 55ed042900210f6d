"""Winsen 9-byte UART frames (ZE03/ZE07/ZE08/ZE15 gas modules, MH-Z19 CO2): pure decoding, no I/O.

Every frame is `FF`, seven bytes, checksum = two's complement of the sum of bytes 1..7
(`(~sum + 1) & 0xFF`, the datasheets' formula). Host commands start `FF 01`.

- initiative (active) upload: `FF gas unit decimals concH concL rangeH rangeL CS`, value = conc / 10^decimals.
- question-answer: the host sends `FF 01 86 00 00 00 00 00 79`; the answer is `FF 86 b2 b3 b4 b5 b6 b7 CS`,
  whose layout depends on the module (see `decode_answer`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agent.framing import FixedFrameScanner, FrameError, WarmingUp

Model = Literal["ze03", "ze07", "ze08", "ze15", "mhz19"]

START = 0xFF
ANSWER = 0x86
FRAME_SIZE = 9

#: gas code -> hazmon quantity (MH411D ZE03.h). Codes whose gas hazmon has no quantity for are listed apart.
GAS_CODES: dict[int, str] = {
    0x02: "nh3",
    0x03: "h2s",
    0x04: "co",
    0x05: "o2",
    0x17: "hcho",
    0x2B: "so2",
    0x2C: "no2",
    0x31: "cl2",
}
UNSUPPORTED_GASES: dict[int, str] = {0x06: "H2", 0x2A: "O3", 0x33: "HF", 0x45: "PH3"}
#: unit byte -> unit. 0x03 = ppm (ZE07 comment); 0x04 = ppb (ZE08-CH2O, UNVERIFIED).
UNIT_CODES: dict[int, str] = {0x03: "ppm", 0x04: "ppb"}
#: default resolution (decimals) per gas for question-answer frames, which do not carry it (ZE03.h)
DEFAULT_DECIMALS: dict[str, int] = {"nh3": 0, "h2s": 0, "co": 0, "o2": 1, "hcho": 0, "so2": 1, "no2": 1, "cl2": 1}


@dataclass(frozen=True, slots=True)
class GasValue:
    quantity: str
    value: float
    unit: str


@dataclass(frozen=True, slots=True)
class Frame:
    """A 9-byte frame with a valid checksum, not yet interpreted."""

    raw: bytes

    @property
    def is_answer(self) -> bool:
        return self.raw[1] == ANSWER


def checksum(frame: bytes) -> int:
    return (~sum(frame[1:8]) + 1) & 0xFF


def check_frame(frame: bytes) -> Frame:
    """Length, start byte and checksum. Raises FrameError."""
    if len(frame) != FRAME_SIZE:
        raise FrameError("bad_length", f"{len(frame)} bytes, expected {FRAME_SIZE}")
    if frame[0] != START:
        raise FrameError("bad_header", f"start {frame[0]:#04x}")
    expected = checksum(frame)
    if frame[8] != expected:
        raise FrameError("bad_checksum", f"checksum {frame[8]:#04x} != {expected:#04x}")
    if frame[1] == 0x01:
        raise FrameError("unexpected_frame", "a host command (FF 01 ...), not a sensor frame")
    return Frame(bytes(frame))


def decode_initiative(frame: Frame) -> GasValue:
    """`FF gas unit decimals concH concL rangeH rangeL CS`."""
    raw = frame.raw
    gas = GAS_CODES.get(raw[1])
    if gas is None:
        name = UNSUPPORTED_GASES.get(raw[1], f"code {raw[1]:#04x}")
        raise FrameError("unsupported_gas", f"gas {name} has no hazmon quantity")
    decimals = raw[3]
    value = int.from_bytes(raw[4:6], "big") / 10**decimals
    if gas == "o2":
        return GasValue(gas, value, "%vol")
    unit = UNIT_CODES.get(raw[2])
    if unit is None:
        raise FrameError("unknown_unit", f"unit code {raw[2]:#04x}")
    return GasValue(gas, value, unit)


def decode_answer(frame: Frame, *, model: Model, gas: str, decimals: int | None = None) -> GasValue:
    """A question-answer frame `FF 86 b2..b7 CS`, interpreted for the configured module:

    - mhz19: CO2 ppm in b2-b3 (b4 is a temperature +40 and b5 a status in ESPHome: not in the datasheet,
      not used); an all-zero payload is warm-up;
    - ze15: the gas value in b2-b3 with bit 7 of b2 a sensor-fault flag, value ((b2 & 0x1F) << 8 | b3) / 10;
    - ze08: formaldehyde in ppb in b6-b7 (UNVERIFIED: third-party notes);
    - ze03, ze07: the value in b2-b3 with the gas's resolution (`decimals`).
    """
    raw = frame.raw
    if model == "mhz19":
        if not any(raw[2:8]):
            raise WarmingUp("all-zero answer")
        return GasValue("co2", float(int.from_bytes(raw[2:4], "big")), "ppm")
    if model == "ze15":
        if raw[2] & 0x80:
            raise FrameError("sensor_fault", "ZE15 fault bit set")
        return GasValue(gas, (((raw[2] & 0x1F) << 8) | raw[3]) / 10, "ppm")
    if model == "ze08":
        return GasValue(gas, float(int.from_bytes(raw[6:8], "big")), "ppb")
    places = decimals if decimals is not None else DEFAULT_DECIMALS.get(gas, 0)
    unit = "%vol" if gas == "o2" else "ppm"
    return GasValue(gas, int.from_bytes(raw[2:4], "big") / 10**places, unit)


def command(cmd: int, data: bytes = b"") -> bytes:
    """A host command `FF 01 CMD d3..d7 CS`."""
    body = bytes([START, 0x01, cmd]) + data.ljust(5, b"\x00")
    return body + bytes([checksum(body + b"\x00")])


CMD_READ = command(0x86)
CMD_MHZ19_ZERO = command(0x87)
CMD_MHZ19_ABC_ON = command(0x79, b"\xa0")
CMD_MHZ19_ABC_OFF = command(0x79)
#: mode switch bytes differ between module families (MH411D for ZE03; ZE07 library, ESPHome, PyPMS for ZE07/08)
MODE_COMMANDS: dict[str, dict[str, bytes]] = {
    "ze03": {"qa": command(0x78, b"\x04"), "initiative": command(0x78, b"\x03")},
    "ze07": {"qa": command(0x78, b"\x41"), "initiative": command(0x78, b"\x40")},
    "ze08": {"qa": command(0x78, b"\x41"), "initiative": command(0x78, b"\x40")},
}


class FrameScanner(FixedFrameScanner):
    """Finds checksum-valid 9-byte frames in a stream of any chunking, resynchronising on `FF`. Only a bad checksum
    may hide the next frame; a frame that passes it but says something unusable is consumed whole."""

    frame_size = FRAME_SIZE
    garbage_detail = "bytes without a start byte"

    def find_head(self, buf: bytearray) -> int:
        return buf.find(START)

    def decode(self, frame: bytes) -> Frame:
        return check_frame(frame)

    def resync_after(self, exc: FrameError) -> bool:
        return exc.reason == "bad_checksum"

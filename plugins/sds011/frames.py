"""Nova Fitness SDS011 (also SDS018/SDS021) frames and commands: pure, no I/O.

Data frame (sensor to host), 10 bytes: `AA C0 PM25_L PM25_H PM10_L PM10_H ID1 ID2 CS AB`, PM little-endian
in 0.1 µg/m³, CS = sum of bytes 2..7 mod 256 (the ID bytes included). Command replies are
`AA C5 CMD d1 d2 d3 ID1 ID2 CS AB`. Commands (host to sensor), 19 bytes: `AA B4 CMD d1..d12 ID1 ID2 CS AB`,
CS = sum of bytes 2..16 mod 256; ID `FF FF` addresses every sensor on the line.
Source: Nova Fitness "Laser Dust Sensor Control Protocol V1.3".
"""

from __future__ import annotations

from dataclasses import dataclass

from agent.framing import FixedFrameScanner, FrameError, Skipped, WarmingUp

HEAD = 0xAA
TAIL = 0xAB
DATA = 0xC0
REPLY = 0xC5
FRAME_SIZE = 10
BROADCAST = 0xFFFF

CMD_REPORTING_MODE = 0x02
CMD_QUERY = 0x04
CMD_SET_ID = 0x05
CMD_SLEEP_WORK = 0x06
CMD_FIRMWARE = 0x07
CMD_WORKING_PERIOD = 0x08


@dataclass(frozen=True, slots=True)
class SdsData:
    pm2_5: float  # µg/m³
    pm10: float  # µg/m³
    device_id: int


@dataclass(frozen=True, slots=True)
class SdsReply:
    command: int
    data: bytes  # the three bytes after CMD
    device_id: int


def _checksum(body: bytes) -> int:
    return sum(body) & 0xFF


def decode_frame(frame: bytes) -> SdsData | SdsReply:
    """Decode exactly one 10-byte frame (data or reply). Raises FrameError or WarmingUp."""
    if len(frame) != FRAME_SIZE:
        raise FrameError("bad_length", f"{len(frame)} bytes, expected {FRAME_SIZE}")
    if frame[0] != HEAD or frame[1] not in (DATA, REPLY):
        raise FrameError("bad_header", frame[:2].hex())
    if frame[9] != TAIL:
        raise FrameError("bad_tail", f"tail {frame[9]:#04x}")
    expected = _checksum(frame[2:8])
    if frame[8] != expected:
        raise FrameError("bad_checksum", f"checksum {frame[8]} != {expected}")
    device_id = int.from_bytes(frame[6:8], "big")
    if frame[1] == REPLY:
        return SdsReply(frame[2], bytes(frame[3:6]), device_id)
    pm2_5 = int.from_bytes(frame[2:4], "little")
    pm10 = int.from_bytes(frame[4:6], "little")
    if pm2_5 == 0 and pm10 == 0 and device_id == 0:
        raise WarmingUp("all zero")
    return SdsData(pm2_5 / 10, pm10 / 10, device_id)


def command(cmd: int, data: bytes = b"", *, device_id: int = BROADCAST) -> bytes:
    """A 19-byte command: AA B4 CMD, 12 data bytes (zero-padded), the device id, checksum, AB."""
    if len(data) > 12:
        raise ValueError("at most 12 data bytes")
    body = bytes([cmd]) + data.ljust(12, b"\x00") + device_id.to_bytes(2, "big")
    return bytes([HEAD, 0xB4]) + body + bytes([_checksum(body), TAIL])


def set_reporting_mode(mode: str, *, device_id: int = BROADCAST) -> bytes:
    """mode "active" (the sensor reports by itself) or "query" (only when asked)."""
    return command(CMD_REPORTING_MODE, bytes([1, 0 if mode == "active" else 1]), device_id=device_id)


def query_data(*, device_id: int = BROADCAST) -> bytes:
    return command(CMD_QUERY, device_id=device_id)


def set_sleep(*, device_id: int = BROADCAST) -> bytes:
    return command(CMD_SLEEP_WORK, bytes([1, 0]), device_id=device_id)


def set_work(*, device_id: int = BROADCAST) -> bytes:
    return command(CMD_SLEEP_WORK, bytes([1, 1]), device_id=device_id)


def set_working_period(minutes: int, *, device_id: int = BROADCAST) -> bytes:
    """0 = continuous; 1-30 = work 30 s, then sleep until `minutes` have passed."""
    if not 0 <= minutes <= 30:
        raise ValueError("working period is 0 (continuous) to 30 minutes")
    return command(CMD_WORKING_PERIOD, bytes([1, minutes]), device_id=device_id)


Event = SdsData | SdsReply | Skipped | WarmingUp


class FrameScanner(FixedFrameScanner):
    """Finds 10-byte frames in a byte stream of any chunking, resynchronising on `AA C0` / `AA C5`."""

    frame_size = FRAME_SIZE

    def find_head(self, buf: bytearray) -> int:
        i = 0
        while True:
            i = buf.find(HEAD, i)
            if i < 0 or i + 1 >= len(buf) or buf[i + 1] in (DATA, REPLY):
                return i
            i += 1

    def decode(self, frame: bytes) -> SdsData | SdsReply:
        return decode_frame(frame)

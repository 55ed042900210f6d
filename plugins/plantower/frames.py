"""Plantower PMS1003/5003/7003/A003 and PMS5003T frames: pure decoding, no I/O.

Data frame, 32 bytes, big-endian words: `42 4D`, length 28, data 1-13, checksum = 16-bit sum of bytes 0..29.
Data 1-3 are PM1/PM2.5/PM10 at CF=1 ("standard particle"), data 4-6 the same at "atmospheric environment",
data 7-12 particle counts per 0.1 L above 0.3/0.5/1.0/2.5/5.0/10 µm. On a PMS5003T data 11 is the temperature
(signed, /10 °C) and data 12 the relative humidity (/10 %): the frame does not say which model sent it.
Command answers (`42 4D 00 04 ...`, 8 bytes) share the header and are skipped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from agent.framing import FrameError, Skipped, StreamScanner, WarmingUp

Model = Literal["pms1003", "pms5003", "pms7003", "pmsa003", "pms5003t"]

HEADER = b"BM"
DATA_LENGTH = 28  # bytes after the length field, checksum included
FRAME_SIZE = 4 + DATA_LENGTH
ANSWER_LENGTH = 4  # a command answer: 42 4D 00 04 CMD DATA CS CS


@dataclass(frozen=True, slots=True)
class PmsFrame:
    """One decoded data frame. PM values in µg/m³, counts per 0.1 L."""

    pm1_cf1: int
    pm2_5_cf1: int
    pm10_cf1: int
    pm1_atm: int
    pm2_5_atm: int
    pm10_atm: int
    pc_0_3: int
    pc_0_5: int
    pc_1_0: int
    pc_2_5: int
    pc_5_0: int | None
    pc_10: int | None
    temperature_c: float | None = None
    humidity_rh: float | None = None


def checksum(frame: bytes) -> int:
    return sum(frame[:-2]) & 0xFFFF


def decode_frame(frame: bytes, *, model: Model) -> PmsFrame:
    """Decode exactly one 32-byte frame. Raises FrameError (bad header, length, checksum, implausible values)
    or WarmingUp (all data zero)."""
    if len(frame) != FRAME_SIZE:
        raise FrameError("bad_length", f"{len(frame)} bytes, expected {FRAME_SIZE}")
    if frame[:2] != HEADER:
        raise FrameError("bad_header", frame[:2].hex())
    length = int.from_bytes(frame[2:4], "big")
    if length != DATA_LENGTH:
        raise FrameError("bad_length", f"length field {length}, expected {DATA_LENGTH}")
    expected = checksum(frame)
    got = int.from_bytes(frame[-2:], "big")
    if got != expected:
        raise FrameError("bad_checksum", f"checksum {got:#06x} != {expected:#06x}")
    words = struct.unpack(">10Hh2H" if model == "pms5003t" else ">13H", frame[4:30])
    data = words[:12]
    if not any(data):
        raise WarmingUp("all data zero")
    if data[2] > 0 and data[6] == 0:
        # PM10 without a single particle above 0.3 µm: the optics or the fan are failing (PyPMS policy)
        raise FrameError("inconsistent", f"pm10 {data[2]} with no particle above 0.3 µm")
    if model == "pms5003t":
        return PmsFrame(*data[:10], None, None, temperature_c=data[10] / 10, humidity_rh=data[11] / 10)
    return PmsFrame(*data)


def command(cmd: int, data: int = 0) -> bytes:
    """A 7-byte host command: 42 4D CMD DATAH DATAL, then the 16-bit sum of those five bytes."""
    body = HEADER + bytes([cmd]) + data.to_bytes(2, "big")
    return body + (sum(body) & 0xFFFF).to_bytes(2, "big")


CMD_PASSIVE_MODE = command(0xE1, 0)
CMD_ACTIVE_MODE = command(0xE1, 1)
CMD_READ = command(0xE2, 0)
CMD_SLEEP = command(0xE4, 0)
CMD_WAKE = command(0xE4, 1)


Event = PmsFrame | Skipped | WarmingUp


class FrameScanner(StreamScanner):
    """Finds frames in a byte stream of any chunking: resynchronises on `42 4D`, skips command answers.

    Bytes before a header are reported once per run as `garbage`, whatever the chunking; the bytes after a
    rejected frame's header belong to that frame and are not counted again.
    """

    def __init__(self, *, model: Model) -> None:
        super().__init__()
        self.model = model

    def feed(self, data: bytes) -> list[Event]:
        self._buf += data
        events: list[Event] = []
        while True:
            start = self._buf.find(HEADER)
            if start < 0:
                # keep a trailing 0x42: it may be the first half of the next header
                keep = 1 if self._buf.endswith(HEADER[:1]) else 0
                self._drop(len(self._buf) - keep)
                return events
            self._drop(start)
            if len(self._buf) < 4:
                return events
            length = int.from_bytes(self._buf[2:4], "big")
            if length == ANSWER_LENGTH:
                if len(self._buf) < 4 + ANSWER_LENGTH:
                    return events
                self._header_found(events)
                del self._buf[: 4 + ANSWER_LENGTH]  # a command answer, not data
                continue
            if length != DATA_LENGTH:
                self._header_found(events)
                self._reject(FrameError("bad_length", f"length field {length}"), events)
                continue
            if len(self._buf) < FRAME_SIZE:
                return events
            self._header_found(events)
            frame = bytes(self._buf[:FRAME_SIZE])
            try:
                events.append(decode_frame(frame, model=self.model))
            except WarmingUp as exc:
                events.append(exc)
            except FrameError as exc:
                if exc.reason != "inconsistent":
                    # a truncated frame may hide the next header: search again from the byte after this one
                    self._reject(exc, events)
                    continue
                events.append(Skipped(exc.reason, str(exc)))  # checksum good: the whole frame is consumed
            del self._buf[:FRAME_SIZE]

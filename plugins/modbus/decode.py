"""Modbus register values to numbers: pure, no I/O.

Registers are 16-bit words as the client returns them (already host integers). `byte_order` swaps the two bytes
inside each word (some devices send little-endian words); `word_order` gives the order of the words of a 32-bit
value ("big" = high word first, the Modbus convention; "little" = low word first, common on meters).
"""

from __future__ import annotations

import math
import struct
from typing import Literal

DataType = Literal["uint16", "int16", "uint32", "int32", "float32"]
Order = Literal["big", "little"]

WORDS: dict[str, int] = {"uint16": 1, "int16": 1, "uint32": 2, "int32": 2, "float32": 2}
_FORMAT: dict[str, str] = {"uint16": ">H", "int16": ">h", "uint32": ">I", "int32": ">i", "float32": ">f"}


class DecodeError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def decode_registers(
    registers: list[int], data_type: DataType, *, byte_order: Order = "big", word_order: Order = "big"
) -> float:
    """The value held by `registers` (1 or 2 words). Raises DecodeError for a wrong count or a non-finite float."""
    n = WORDS[data_type]
    if len(registers) != n:
        raise DecodeError("bad_length", f"{data_type} needs {n} registers, got {len(registers)}")
    words = list(registers)
    if word_order == "little":
        words.reverse()
    raw = b"".join(w.to_bytes(2, "big") if byte_order == "big" else w.to_bytes(2, "little") for w in words)
    value = float(struct.unpack(_FORMAT[data_type], raw)[0])
    if not math.isfinite(value):
        raise DecodeError("not_finite", f"{data_type} {raw.hex()} is NaN or infinite")
    return value


def crc16_modbus(data: bytes) -> int:
    """CRC-16/MODBUS (reflected polynomial 0xA001, init 0xFFFF), textbook order; sent low byte first."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc

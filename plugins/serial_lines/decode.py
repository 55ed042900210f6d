"""Text-line instruments (sound level meters, dosimeters, gas monitors): pure line parsing, no I/O.

A line is split into named text fields by one of three formats, then mapped to readings:
- `regex`: a regular expression with named groups (`(?P<laeq>...)`);
- `kv`: `key=value` pairs separated by a delimiter (`LAeq=65.3, LCpeak=101.2`);
- `csv`: delimited values named by `columns` (an empty name skips a column).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Format = Literal["regex", "kv", "csv"]
MAX_LINE = 4096


class LineError(ValueError):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class LineParser:
    format: Format
    pattern: re.Pattern[str] | None = None
    delimiter: str = ","
    kv_separator: str = "="
    columns: tuple[str, ...] = ()

    def fields(self, line: str) -> dict[str, str]:
        """The named text fields of one line. Raises LineError("no_match") when the line does not fit."""
        if self.format == "regex":
            assert self.pattern is not None
            m = self.pattern.search(line)
            if m is None:
                raise LineError("no_match", line[:80])
            return {k: v for k, v in m.groupdict().items() if v is not None}
        if self.format == "kv":
            out: dict[str, str] = {}
            for part in line.split(self.delimiter):
                key, sep, value = part.partition(self.kv_separator)
                if sep:
                    out[key.strip()] = value.strip()
            if not out:
                raise LineError("no_match", line[:80])
            return out
        values = [v.strip() for v in line.split(self.delimiter)]
        if len(values) < len([c for c in self.columns if c]):
            raise LineError("no_match", f"{len(values)} columns, expected {len(self.columns)}")
        return {name: value for name, value in zip(self.columns, values, strict=False) if name}


def parse_number(text: str) -> float:
    """A decimal number, optionally followed by a unit (`65.3 dB`). Dashes or blanks are not a number."""
    m = re.match(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)", text)
    if m is None:
        raise LineError("not_a_number", repr(text[:40]))
    number = float(m.group(1))
    if not math.isfinite(number):  # 1e999 parses as infinity
        raise LineError("not_finite", repr(text[:40]))
    return number


class LineSplitter:
    """Complete lines from a byte stream of any chunking. `\\n` ends a line (a `\\r` before it is dropped);
    with `ending="cr"` a lone `\\r` ends it."""

    def __init__(self, *, ending: Literal["lf", "cr"] = "lf", encoding: str = "ascii") -> None:
        self._sep = b"\n" if ending == "lf" else b"\r"
        self._encoding = encoding
        self._buf = bytearray()
        self.overflows = 0

    def feed(self, data: bytes) -> list[str]:
        self._buf += data
        lines: list[str] = []
        while True:
            i = self._buf.find(self._sep)
            if i < 0:
                if len(self._buf) > MAX_LINE:
                    self.overflows += 1
                    self._buf.clear()
                return lines
            raw = bytes(self._buf[:i]).strip(b"\r\n")
            del self._buf[: i + 1]
            lines.append(raw.decode(self._encoding, errors="replace").strip())

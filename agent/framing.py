"""Finding frames in a serial byte stream of any chunking: the part every binary sensor protocol shares.

A decoder plugin keeps its own frame layout and checks (pure functions raising `FrameError` or `WarmingUp`);
the scanner here keeps the buffer, resynchronises on the header after garbage or a bad frame, and reports every
dropped run of bytes once as `Skipped` with a stable reason (the counter key), whatever the chunking.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


class FrameError(ValueError):
    """A frame that cannot be used. `reason` is a stable counter key (bad_checksum, bad_length, ...)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class WarmingUp(Exception):
    """A valid frame that holds no measurement yet (all zero while the sensor starts): counted, never a 0."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """Bytes the scanner dropped, and why (garbage before a header, a frame that failed its checks)."""

    reason: str
    detail: str


class StreamScanner(ABC):
    """The buffer and resynchronisation bookkeeping of a frame scanner.

    Bytes before a header are reported once per run as `garbage`; after a rejected frame the scanner searches
    again from the byte after its header, and the bytes it skips there belong to the rejected frame (not counted
    twice).
    """

    garbage_detail = "bytes without a header"

    def __init__(self) -> None:
        self._buf = bytearray()
        self._junk = 0
        self._after_bad = False

    def _drop(self, n: int) -> None:
        del self._buf[:n]
        if not self._after_bad:
            self._junk += n

    def _header_found(self, events: list[Any]) -> None:
        if self._junk:
            events.append(Skipped("garbage", f"{self._junk} {self.garbage_detail}"))
        self._junk = 0
        self._after_bad = False

    def _reject(self, exc: FrameError, events: list[Any]) -> None:
        """A frame failed its checks: report it and resynchronise from the next byte."""
        events.append(Skipped(exc.reason, str(exc)))
        del self._buf[:1]
        self._after_bad = True

    @abstractmethod
    def feed(self, data: bytes) -> list[Any]:
        """Add received bytes; return the events (frames, Skipped, WarmingUp) they complete, in order."""


class FixedFrameScanner(StreamScanner):
    """Frames of one fixed size that start with a recognisable header."""

    frame_size: int

    @abstractmethod
    def find_head(self, buf: bytearray) -> int:
        """The index of the next possible frame start in `buf`, or -1."""

    @abstractmethod
    def decode(self, frame: bytes) -> Any:
        """Decode one frame (raise FrameError or WarmingUp)."""

    def resync_after(self, exc: FrameError) -> bool:
        """Whether a frame rejected for this reason may hide the next header (search again from the next byte)
        rather than be consumed whole. Default: always."""
        return True

    def feed(self, data: bytes) -> list[Any]:
        self._buf += data
        events: list[Any] = []
        while True:
            start = self.find_head(self._buf)
            if start < 0:
                self._drop(len(self._buf))
                return events
            self._drop(start)
            if len(self._buf) < self.frame_size:
                return events
            self._header_found(events)
            try:
                events.append(self.decode(bytes(self._buf[: self.frame_size])))
            except WarmingUp as exc:
                events.append(exc)
            except FrameError as exc:
                if self.resync_after(exc):
                    self._reject(exc, events)
                    continue
                events.append(Skipped(exc.reason, str(exc)))
            del self._buf[: self.frame_size]

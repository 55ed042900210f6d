"""Readings the agent could not keep, remembered as gaps with a reason until they can be written.

When the outbox cannot take readings (its disk is full) and the readings held in memory reach their bound, the
agent drops further readings of sources that cannot hold them upstream (a serial meter prints on regardless).
Each dropped reading widens its sensor's open gap (first and last timestamp, count); `take()` hands the gaps
over, to be written with the next batch and sent to the server, where they show as gaps with a reason.
Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from exposure import Reading
from exposure.batch import EdgeGap


@dataclass
class _Open:
    from_ts: int
    to_ts: int
    dropped: int


class DropLedger:
    def __init__(self) -> None:
        self._open: dict[tuple[str, str], _Open] = {}
        self.total = 0

    def drop(self, reading: Reading, *, reason: str) -> None:
        key = (reading.sensor, reason)
        gap = self._open.get(key)
        if gap is None:
            self._open[key] = _Open(reading.ts, reading.ts, 1)
        else:
            gap.from_ts, gap.to_ts = min(gap.from_ts, reading.ts), max(gap.to_ts, reading.ts)
            gap.dropped += 1
        self.total += 1

    def pending(self) -> int:
        """How many dropped readings are not handed over yet."""
        return sum(g.dropped for g in self._open.values())

    def take(self) -> list[EdgeGap]:
        """The open gaps, closed and removed: the caller writes them (or puts them back with `restore`)."""
        out = [EdgeGap(sensor, g.from_ts, g.to_ts, g.dropped, reason) for (sensor, reason), g in self._open.items()]
        self._open.clear()
        return out

    def restore(self, gaps: list[EdgeGap]) -> None:
        """Gaps taken but not written: merged back so none is lost."""
        for g in gaps:
            key = (g.sensor, g.reason)
            cur = self._open.get(key)
            if cur is None:
                self._open[key] = _Open(g.from_ts, g.to_ts, g.dropped)
            else:
                cur.from_ts, cur.to_ts = min(cur.from_ts, g.from_ts), max(cur.to_ts, g.to_ts)
                cur.dropped += g.dropped

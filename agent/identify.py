"""Which serial protocol is on a port: `hazmon agent identify`.

The port is opened once at 9600 8N1 (the usual setting of every built-in streaming protocol) and only listened
to: nothing is sent, so a sensor that is not ours is never reconfigured. Every chunk read goes to the decoder
of each candidate (Plantower in active mode, SDS011 in active mode, Winsen initiative upload); the first whose
frames pass their checksums answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from agent.clock import SystemClock
from agent.probe import SourceCounters
from agent.serial_port import SerialPort, SerialSource, SerialSourceConfig
from agent.sources import Source

#: candidate source tables (type and options) tried together, in this order
CANDIDATES: tuple[dict[str, object], ...] = (
    {"type": "plantower", "mode": "active"},
    {"type": "sds011", "mode": "active"},
    {"type": "winsen", "model": "ze03", "mode": "initiative"},
)
#: good frames that settle the answer before the time is up
ENOUGH_FRAMES = 2


@dataclass(frozen=True)
class Identified:
    """The protocol that answered (None: none did), with the good frames each candidate decoded."""

    protocol: str | None
    options: dict[str, object]
    frames_ok: dict[str, int]
    bytes_read: int


def candidates(port: str, source_types: dict[str, type[Source]]) -> list[SerialSource]:
    """The built-in serial decoders that are loaded, configured for `port`."""
    out = []
    for table in CANDIDATES:
        cls = source_types.get(str(table["type"]))
        if cls is None or not issubclass(cls, SerialSource):
            continue
        cfg = cls.config_model.model_validate({**table, "name": f"identify-{table['type']}", "port": port})
        out.append(cls(cfg, clock=SystemClock()))
    return out


async def identify(port: str, *, source_types: dict[str, type[Source]], duration_s: float) -> Identified:
    """Listen on `port` for up to `duration_s` seconds and name the protocol whose frames arrive."""
    decoders = candidates(port, source_types)
    cfg = SerialSourceConfig(type="identify", name="identify", port=port, baudrate=9600)
    serial = SerialPort(cfg, counters=SourceCounters())
    total = 0

    def best() -> SerialSource | None:
        ranked = sorted(decoders, key=lambda d: d.counters.frames_ok + d.counters.warmup, reverse=True)
        if ranked and ranked[0].counters.frames_ok + ranked[0].counters.warmup > 0:
            return ranked[0]
        return None

    async def listen() -> None:
        nonlocal total
        while True:
            data = await serial.read()
            total += len(data)
            for decoder in decoders:
                decoder.feed(data)
            leader = best()
            if leader is not None and leader.counters.frames_ok + leader.counters.warmup >= ENOUGH_FRAMES:
                return

    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(duration_s):
                await listen()
    finally:
        await serial.aclose()
    winner = best()
    options: dict[str, object] = {}
    if winner is not None:
        table = next(t for t in CANDIDATES if t["type"] == winner.type_name)
        options = {k: v for k, v in table.items() if k != "type"}
    return Identified(
        protocol=winner.type_name if winner is not None else None,
        options=options,
        frames_ok={d.type_name: d.counters.frames_ok for d in decoders},
        bytes_read=total,
    )

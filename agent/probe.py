"""Commissioning: run one configured source for a few seconds and report what it decoded.

`probe()` is what `hazmon agent probe` runs: a technician wires a sensor, probes it and sees the readings and
the frame counters (good, bad by reason, warm-up, port reopens), so a wrong baud rate or swapped RS-485 pair
shows up as bad frames or silence instead of a quiet gap in the data.

`SourceCounters` lives here because it is what probe and status show; sources expose one as `source.counters`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agent.sources import Held, Source
from exposure import Reading


@dataclass
class SourceCounters:
    """What a source has seen since it started. Mutated only by the source's own task."""

    frames_ok: int = 0
    frames_bad: Counter[str] = field(default_factory=Counter)
    warmup: int = 0
    reopens: int = 0
    read_errors: int = 0
    last_error: str | None = None

    def bad(self, reason: str) -> None:
        """Count one rejected frame (or line, or payload) under `reason`."""
        self.frames_bad[reason] += 1

    def error(self, message: str) -> None:
        """Count one failed read (timeout, lost connection): it yields no reading."""
        self.read_errors += 1
        self.last_error = message

    def as_dict(self) -> dict[str, Any]:
        return {
            "frames_ok": self.frames_ok,
            "frames_bad": dict(sorted(self.frames_bad.items())),
            "warmup": self.warmup,
            "reopens": self.reopens,
            "read_errors": self.read_errors,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class ProbeReport:
    source: str
    type: str
    duration_s: float
    readings: tuple[Reading, ...]
    counters: dict[str, Any]
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when at least one reading was decoded."""
        return bool(self.readings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "type": self.type,
            "duration_s": self.duration_s,
            "ok": self.ok,
            "readings": [r.to_dict() for r in self.readings],
            "counters": self.counters,
            "errors": list(self.errors),
        }


async def probe(source: Source, *, duration_s: float) -> ProbeReport:
    """Read `source` for `duration_s` seconds (or until it ends) and report readings, counters and errors.

    A raising source does not stop the probe: the error is reported, as the supervisor would log it.
    """
    seen: list[Reading] = []
    errors: list[str] = []
    source = source.for_probe()

    async def consume() -> None:
        async for item in source.readings():
            if isinstance(item, Held):
                seen.extend(item.readings)
                item.release()
            else:
                seen.append(item)

    task = asyncio.create_task(consume())
    try:
        done, _ = await asyncio.wait({task}, timeout=duration_s)
        if task in done and task.exception() is not None:
            exc = task.exception()
            errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        try:
            await source.aclose()
        except Exception as exc:
            errors.append(f"closing: {type(exc).__name__}: {exc}")
    counters = getattr(source, "counters", None)
    counter_dict = counters.as_dict() if isinstance(counters, SourceCounters) else {}
    if isinstance(counters, SourceCounters) and counters.last_error and not seen:
        errors.append(counters.last_error)
    return ProbeReport(
        source=source.name,
        type=source.type_name,
        duration_s=duration_s,
        readings=tuple(seen),
        counters=counter_dict,
        errors=tuple(errors),
    )


def format_report(report: ProbeReport) -> str:
    """The report as a technician reads it on a terminal."""
    lines = [f"source {report.source} ({report.type}), {report.duration_s:g} s"]
    if report.readings:
        lines.append(f"{len(report.readings)} readings:")
        for r in report.readings[-20:]:
            flags = f"  [{', '.join(r.flags)}]" if r.flags else ""
            lines.append(f"  {r.ts}  {r.quantity:<12} {r.value:>10g} {r.unit}{flags}")
    else:
        lines.append("no readings decoded")
    c = report.counters
    if c:
        bad = ", ".join(f"{k}={v}" for k, v in c["frames_bad"].items()) or "none"
        lines.append(
            f"frames ok {c['frames_ok']}, bad {sum(c['frames_bad'].values())} ({bad}), "
            f"warm-up {c['warmup']}, port reopens {c['reopens']}, read errors {c['read_errors']}"
        )
    lines.extend(f"error: {e}" for e in report.errors)
    return "\n".join(lines)


@dataclass(frozen=True)
class Rejected:
    """Frames a source rejected since the last look: `count` of them for `reason`."""

    reason: str
    count: int


async def watch(
    source: Source,
    *,
    count: int | None,
    duration_s: float,
    on_reading: Callable[[Reading], None],
    on_rejected: Callable[[Rejected], None],
    poll_s: float = 0.1,
) -> int:
    """Read `source` live: call `on_reading` for each reading as it arrives and `on_rejected` for each rejected
    frame (read from the source's counters), until `count` readings or `duration_s` seconds. Returns how many
    readings there were. A raising source ends the watch early (its error is in the counters or re-raised)."""
    got = 0
    source = source.for_probe()
    seen_bad: Counter[str] = Counter()
    done = asyncio.Event()

    def report_rejected() -> None:
        counters = getattr(source, "counters", None)
        if not isinstance(counters, SourceCounters):
            return
        for reason, n in counters.frames_bad.items():
            if n > seen_bad[reason]:
                on_rejected(Rejected(reason, n - seen_bad[reason]))
                seen_bad[reason] = n

    async def consume() -> None:
        nonlocal got
        async for item in source.readings():
            batch = item.readings if isinstance(item, Held) else (item,)
            report_rejected()
            for reading in batch:
                on_reading(reading)
                got += 1
                if count is not None and got >= count:
                    break
            if isinstance(item, Held):
                item.release()
            if count is not None and got >= count:
                done.set()
                return

    async def rejections() -> None:
        while True:
            await asyncio.sleep(poll_s)
            report_rejected()

    task = asyncio.create_task(consume())
    watcher = asyncio.create_task(rejections())
    try:
        await asyncio.wait({task}, timeout=duration_s)
        report_rejected()
    finally:
        for t in (task, watcher):
            if not t.done():
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        with contextlib.suppress(Exception):
            await source.aclose()
    if task.done() and not task.cancelled() and task.exception() is not None and got == 0:
        raise task.exception()  # type: ignore[misc]
    return got

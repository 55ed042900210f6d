"""Each source's state for the status report (exposure.wire.SourceStatus), from what the supervisor knows of it
(running, restarting after a crash, ended; its last crash) and the source's own counters where it keeps them
(agent.probe.SourceCounters: frames decoded and rejected, failed reads, the last error).

- `unavailable`: the source does not run (it crashed and waits to restart, it ended, it has not started);
- `failing`: it runs, but its latest event is an error (a failed read or a rejected frame, and no good frame
  since; good frames in the same status interval as the error count as later);
- `ok`: it runs and its latest event is a good frame (or it has seen no error at all).

A counter-kept error carries no time of its own: it is stamped when a report first sees it (so within one
status interval); a crash is stamped by the supervisor when it happens."""

from __future__ import annotations

from dataclasses import dataclass

from agent.probe import SourceCounters
from agent.supervisor import SourceHealth
from exposure.wire import SourceState, SourceStatus, one_line


@dataclass
class _Seen:
    errors: tuple[int, int, str | None] = (0, 0, None)  # failed reads, rejected frames, the counters' last error
    error: str | None = None
    error_ms: int | None = None
    good: int = 0
    good_ms: int | None = None


class SourceStatusBook:
    """Remembers, per source, when its last error and its last good frame were first seen."""

    def __init__(self) -> None:
        self._seen: dict[str, _Seen] = {}

    def report(self, health: SourceHealth, counters: object, *, now_ms: int) -> SourceStatus:
        seen = self._seen.setdefault(health.name, _Seen())
        if isinstance(counters, SourceCounters):
            ok, bad = counters.frames_ok, sum(counters.frames_bad.values())
            errors = (counters.read_errors, bad, counters.last_error)
        else:
            ok, bad = health.readings, sum(health.rejected.values())
            errors = (0, bad, None)
        if errors != seen.errors:
            if errors[0] > seen.errors[0] or errors[1] > seen.errors[1]:
                seen.error, seen.error_ms = errors[2] or seen.error or "rejected frame", now_ms
            seen.errors = errors
        if health.last_error_ms is not None and (seen.error_ms is None or health.last_error_ms >= seen.error_ms):
            seen.error, seen.error_ms = health.last_error, health.last_error_ms
        if ok > seen.good:
            seen.good, seen.good_ms = ok, now_ms
        state: SourceState
        if health.state != "running":
            state = "unavailable"
        elif seen.error_ms is not None and (seen.good_ms is None or seen.error_ms > seen.good_ms):
            state = "failing"
        else:
            state = "ok"
        return SourceStatus(name=health.name, state=state, frames_ok=ok, frames_bad=bad,
                            last_error=one_line(seen.error), last_error_ts=seen.error_ms)

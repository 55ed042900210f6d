"""Pure helpers for presence-weighted exposure: where a worker was, which series stands for them there, and how
the per-interval series join into one shift series. No I/O; the metrics themselves come from exposure/.

Two helpers exist here because exposure/ has no equivalent (see docs/health-files.md):
- `highest_of`: several sensors measure one zone; at each instant the highest valid value stands for the zone
  (the conservative choice); time is covered where any sensor has valid data.
- `join_pieces`: the pieces of a shift (one per presence interval) become one Series over the shift, whose
  coverage comes from exposure.segments.coverage_of; time outside every presence interval is a gap.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from exposure.results import Gap
from exposure.segments import Segment, Series, coverage_of


@dataclass(frozen=True, slots=True)
class Interval:
    """A stretch [start_ms, end_ms) of the shift and what stands for the worker's air there."""

    start_ms: int
    end_ms: int
    zone_id: int | None
    personal_sensor_id: int | None = None


def clip(a: int, b: int, lo: int, hi: int) -> tuple[int, int] | None:
    a, b = max(a, lo), min(b, hi)
    return (a, b) if b > a else None


def split_by_personal(
    zone_intervals: Sequence[tuple[int, int, int]], personal: Sequence[tuple[int, int, int]], lo: int, hi: int
) -> list[Interval]:
    """Presence intervals of a shift [lo, hi): a worn personal sensor (start, end, sensor_id) stands for the worker
    wherever it was worn; elsewhere the assigned zone (start, end, zone_id) does. Sorted by start."""
    out: list[Interval] = []
    worn: list[tuple[int, int, int]] = []
    for a, b, sid in sorted(personal):
        c = clip(a, b, lo, hi)
        if c is None:
            continue
        if worn and c[0] < worn[-1][1]:  # two sensors at once: the first keeps its time
            c = clip(c[0], c[1], worn[-1][1], hi)
            if c is None:
                continue
        worn.append((c[0], c[1], sid))
        out.append(Interval(c[0], c[1], None, sid))
    for a, b, zone in sorted(zone_intervals):
        c = clip(a, b, lo, hi)
        if c is None:
            continue
        pieces = [c]
        for wa, wb, _ in worn:
            nxt: list[tuple[int, int]] = []
            for pa, pb in pieces:
                if wb <= pa or wa >= pb:
                    nxt.append((pa, pb))
                    continue
                if pa < wa:
                    nxt.append((pa, wa))
                if wb < pb:
                    nxt.append((wb, pb))
            pieces = nxt
        out.extend(Interval(pa, pb, zone) for pa, pb in pieces)
    out.sort(key=lambda i: (i.start_ms, i.end_ms))
    return out


def flagged_spans(series: Series) -> list[tuple[int, int]]:
    return [(g.start_ms, g.end_ms) for g in series.coverage.gaps if g.reason == "flagged"]


def highest_of(series: Sequence[Series], start_ms: int, end_ms: int, unit: str) -> Series:
    """One Series over [start_ms, end_ms) from several series of the same quantity: the highest valid value at each
    instant; time with only flagged data is a flagged gap; readings excluded are summed."""
    if len(series) == 1:
        return series[0]
    points = {start_ms, end_ms}
    tables: list[tuple[list[int], list[tuple[int, int, float | None]]]] = []
    for s in series:
        spans: list[tuple[int, int, float | None]] = [(g.start_ms, g.end_ms, None) for g in s.coverage.gaps
                                                        if g.reason == "flagged"]
        spans += [(seg.start_ms, seg.end_ms, seg.value) for seg in s.segments]
        spans.sort(key=lambda x: x[0])
        tables.append(([x[0] for x in spans], spans))
        for a, b, _ in spans:
            points.update((a, b))
    cuts = sorted(p for p in points if start_ms <= p <= end_ms)
    segments: list[Segment] = []
    flagged: list[tuple[int, int]] = []
    for a, b in pairwise(cuts):
        best: float | None = None
        any_flagged = False
        for starts, spans in tables:
            i = bisect_right(starts, a) - 1
            if i < 0:
                continue
            sa, sb, v = spans[i]
            if not sa <= a < sb:
                continue
            if v is None:
                any_flagged = True
            elif best is None or v > best:
                best = v
        if best is not None:
            if segments and segments[-1].end_ms == a and segments[-1].value == best:
                segments[-1] = Segment(segments[-1].start_ms, b, best)
            else:
                segments.append(Segment(a, b, best))
        elif any_flagged:
            flagged.append((a, b))
    excluded = sum(s.coverage.excluded_readings for s in series)
    return Series(unit, tuple(segments), coverage_of(segments, flagged, start_ms, end_ms, excluded))


def join_pieces(pieces: Sequence[Series], start_ms: int, end_ms: int, unit: str, excluded: int) -> Series:
    """The shift Series from per-interval series (non-overlapping); time no piece spans is a gap."""
    segments = sorted((seg for p in pieces for seg in p.segments), key=lambda s: s.start_ms)
    flagged = sorted(span for p in pieces for span in flagged_spans(p))
    return Series(unit, tuple(segments), coverage_of(segments, flagged, start_ms, end_ms, excluded))


def label_gaps(gaps: Sequence[Gap], presence: Sequence[Interval]) -> list[dict[str, int | str]]:
    """Gaps as JSON rows; the parts of a `no_data` gap outside every presence interval say `not_assigned`."""
    out: list[dict[str, int | str]] = []
    spans = sorted((i.start_ms, i.end_ms) for i in presence)
    for g in gaps:
        if g.reason != "no_data":
            out.append({"start_ms": g.start_ms, "end_ms": g.end_ms, "reason": g.reason})
            continue
        cursor = g.start_ms
        for a, b in spans:
            c = clip(a, b, cursor, g.end_ms)
            if c is None:
                continue
            if c[0] > cursor:
                out.append({"start_ms": cursor, "end_ms": c[0], "reason": "not_assigned"})
            out.append({"start_ms": c[0], "end_ms": c[1], "reason": "no_data"})
            cursor = c[1]
        if cursor < g.end_ms:
            out.append({"start_ms": cursor, "end_ms": g.end_ms, "reason": "not_assigned"})
    return out


@dataclass(frozen=True, slots=True)
class DroppedSpan:
    """Readings an agent reported it could not keep: `dropped` of them between `from_ts` and `to_ts`, and why."""

    from_ts: int
    to_ts: int
    dropped: int
    reason: str


def mark_dropped(rows: Sequence[dict[str, int | str]], spans: Sequence[DroppedSpan]) -> list[dict[str, int | str]]:
    """Gap rows where the parts of a `no_data` gap that lie within readings an agent dropped say so: the reason
    the agent gave (`disk_full`, `write_failed`) and how many readings that drop held. Other rows are unchanged;
    rows stay in time order. A drop shorter than the series' own tolerance leaves no gap and changes nothing."""
    if not spans:
        return list(rows)
    ordered = sorted(spans, key=lambda d: d.from_ts)
    out: list[dict[str, int | str]] = []
    for row in rows:
        if row["reason"] != "no_data":
            out.append(dict(row))
            continue
        start, end = int(row["start_ms"]), int(row["end_ms"])
        cursor = start
        for d in ordered:
            c = clip(d.from_ts, max(d.to_ts, d.from_ts + 1), cursor, end)
            if c is None:
                continue
            if c[0] > cursor:
                out.append({"start_ms": cursor, "end_ms": c[0], "reason": "no_data"})
            out.append({"start_ms": c[0], "end_ms": c[1], "reason": d.reason, "dropped": d.dropped})
            cursor = c[1]
        if cursor < end:
            out.append({"start_ms": cursor, "end_ms": end, "reason": "no_data"})
    return out

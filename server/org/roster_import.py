"""Shift rosters from CSV, with a row-by-row error report.

Columns (header required): employee_no, date (YYYY-MM-DD), shift (a shift pattern code), zone (zone code),
post (post code or empty), start and end (HH:MM within the shift, optional: the whole shift). Times are local
(HealthConfig.timezone); an end before the start crosses midnight. Mode `atomic` imports nothing when a row is
wrong; mode `partial` imports the good rows. Either way every wrong row is reported with its line and field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.csv_import import ImportReport, RowError
from server.events import Events, ShiftsChanged
from server.org.models import Assignment, Post, ShiftPattern, Worker, Zone
from server.settings import HealthConfig

REQUIRED = ("employee_no", "date", "shift", "zone")
OPTIONAL = ("post", "start", "end")


def _hm(text: str) -> dt.time:
    return dt.datetime.strptime(text.strip(), "%H:%M").time()


def overlaps(session: Session, worker_id: int, a: int, b: int) -> bool:
    return session.execute(select(Assignment.id).where(
        Assignment.worker_id == worker_id, Assignment.start_ms < b, Assignment.end_ms > a).limit(1)).first() is not None


def import_roster(session: Session, text: str, config: HealthConfig, *, mode: Literal["atomic", "partial"],
                  source: str, now_ms: int, events: Events) -> ImportReport:
    """Parse and check every row, then store the good ones (all or nothing in `atomic` mode). The caller commits."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return ImportReport(0, 0, (RowError(1, missing[0], "missing column"),))
    tz = config.tz
    workers = {w.employee_no: w.id for w in session.execute(select(Worker)).scalars()}
    zones = {z.code: z.id for z in session.execute(select(Zone)).scalars()}
    posts = {(p.zone_id, p.code): p.id for p in session.execute(select(Post)).scalars()}
    patterns = {p.code: p for p in session.execute(select(ShiftPattern)).scalars()}
    errors: list[RowError] = []
    good: list[tuple[int, Assignment]] = []
    taken: list[tuple[int, int, int, int]] = []  # worker, a, b, line
    n = 0
    for n, raw in enumerate(reader, start=1):
        line = n + 1
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}

        def err(field: str, reason: str, line: int = line) -> None:
            errors.append(RowError(line, field, reason))

        worker_id = workers.get(row.get("employee_no", ""))
        if worker_id is None:
            err("employee_no", f"no worker {row.get('employee_no', '')!r}")
            continue
        try:
            day = dt.date.fromisoformat(row.get("date", ""))
        except ValueError:
            err("date", f"{row.get('date', '')!r} is not a date YYYY-MM-DD")
            continue
        pattern = patterns.get(row.get("shift", ""))
        if pattern is None:
            err("shift", f"no shift pattern {row.get('shift', '')!r}")
            continue
        zone_id = zones.get(row.get("zone", ""))
        if zone_id is None:
            err("zone", f"no zone {row.get('zone', '')!r}")
            continue
        post_id = None
        if row.get("post"):
            post_id = posts.get((zone_id, row["post"]))
            if post_id is None:
                err("post", f"no post {row['post']!r} in zone {row['zone']!r}")
                continue
        shift_start = dt.datetime.combine(day, _hm(pattern.start), tzinfo=tz)
        shift_end = shift_start + dt.timedelta(hours=pattern.hours)
        try:
            a = shift_start if not row.get("start") else _at(shift_start, _hm(row["start"]), tz)
            b = shift_end if not row.get("end") else _at(a, _hm(row["end"]), tz)
        except ValueError:
            err("start" if row.get("start") else "end", "not a time HH:MM")
            continue
        if not (shift_start <= a < b <= shift_end):
            err("end", f"{a:%H:%M}-{b:%H:%M} is not inside shift {pattern.code} ({shift_start:%H:%M}, "
                       f"{pattern.hours:g} h)")
            continue
        a_ms, b_ms = int(a.timestamp() * 1000), int(b.timestamp() * 1000)
        clash = next((t for t in taken if t[0] == worker_id and t[1] < b_ms and t[2] > a_ms), None)
        if clash is not None:
            err("start", f"overlaps line {clash[3]} for the same worker")
            continue
        if overlaps(session, worker_id, a_ms, b_ms):
            err("start", "overlaps an assignment already stored for this worker")
            continue
        taken.append((worker_id, a_ms, b_ms, line))
        good.append((line, Assignment(worker_id=worker_id, zone_id=zone_id, post_id=post_id, start_ms=a_ms,
                                      end_ms=b_ms, shift_start_ms=int(shift_start.timestamp() * 1000),
                                      shift_end_ms=int(shift_end.timestamp() * 1000), source=source)))
    if errors and mode == "atomic":
        return ImportReport(n, 0, tuple(errors))
    for _, asg in good:
        session.add(asg)
    session.flush()
    events.publish(session, ShiftsChanged(
        tuple(sorted({(g.worker_id, g.shift_start_ms, g.shift_end_ms) for _, g in good})), now_ms))
    return ImportReport(n, len(good), tuple(errors))


def _at(ref: dt.datetime, t: dt.time, tz: dt.tzinfo) -> dt.datetime:
    """The first local time `t` at or after `ref`'s day and time (an earlier time means the next day)."""
    x = dt.datetime.combine(ref.date(), t, tzinfo=tz)
    return x if x >= ref else x + dt.timedelta(days=1)

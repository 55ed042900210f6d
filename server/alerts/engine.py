"""Alert rules applied to a batch's readings, inside the ingest transaction.

One alert per (rule, subject) episode: the subject is the sensor for sensor and zone rules, the worker for worker
rules (`workers = "<glob>"`: the readings of the personal sensors the worker wears at the reading's time). Readings
in another concentration unit than the rule's are converted (server/alerts/metrics.py); a reading that cannot be
converted is counted (`alerts_unit_mismatch`) and skipped. TWA and dose rules use the roster's shift when one covers
the reading, else "first reading + shift_h"; the alert's detail says which. Per reading and applicable rule the work
is O(1): the rule's metric is updated from a small state row (`alert_state`, `alert_worker_state`), and the episode
advances (server/alerts/episodes.py).

Readings with an unreliable flag (exposure.wire.UNRELIABLE_FLAGS) neither open nor clear. Readings flagged `late`
are evaluated, but an alert they open or escalate is marked `late` and its notification says so.

Every transition is audited and published on the event bus (server/events.py), each subscriber in its own
savepoint, so a failing subscriber never loses the batch.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exposure import Reading
from exposure.chemical import STEL_WINDOW_S
from exposure.wire import is_unreliable
from server.alerts.episodes import Episodes
from server.alerts.metrics import GAP_MS, SHIFT_METRICS, STEL_STEP_MS, EpisodeKey, shift_metric, stel_now, to_rule_unit
from server.alerts.models import Alert, AlertState, AlertWorkerState
from server.alerts.rules import Rule
from server.alerts.service import Alerting
from server.alerts.subjects import Subjects, subjects_of

log = logging.getLogger(__name__)


@dataclass
class _Stored:
    """The open alerts and the evaluator state rows of a batch's subjects."""

    open_alerts: dict[EpisodeKey, Alert] = field(default_factory=dict)
    states: dict[EpisodeKey, AlertState | AlertWorkerState] = field(default_factory=dict)


def _load(session: Session, sensor_ids: set[int], worker_ids: set[int]) -> _Stored:
    out = _Stored()
    for a in session.execute(select(Alert).where(Alert.state != "resolved", Alert.worker_id.is_(None),
                                                 Alert.sensor_id.in_(sensor_ids))).scalars():
        out.open_alerts[(a.rule_id, "s", a.sensor_id)] = a
    for s in session.execute(select(AlertState).where(AlertState.sensor_id.in_(sensor_ids))).scalars():
        out.states[(s.rule_id, "s", s.sensor_id)] = s
    if worker_ids:
        for a in session.execute(select(Alert).where(Alert.state != "resolved",
                                                     Alert.worker_id.in_(worker_ids))).scalars():
            out.open_alerts[(a.rule_id, "w", a.worker_id)] = a  # type: ignore[index]
        for ws in session.execute(select(AlertWorkerState).where(AlertWorkerState.worker_id.in_(worker_ids))).scalars():
            out.states[(ws.rule_id, "w", ws.worker_id)] = ws
    return out


def _save(session: Session, stored: _Stored, dirty: dict[EpisodeKey, dict[str, Any]]) -> None:
    for key, st in dirty.items():
        row = stored.states.get(key)
        if row is not None:
            row.state = json.dumps(st)
        elif key[1] == "w":
            session.add(AlertWorkerState(rule_id=key[0], worker_id=key[2], state=json.dumps(st)))
        else:
            session.add(AlertState(rule_id=key[0], sensor_id=key[2], state=json.dumps(st)))


def evaluate_thresholds(
    session: Session, readings: tuple[Reading, ...], sensor_ids: dict[str, int], alerting: Alerting
) -> tuple[int, int]:
    """Apply the rules in force to the readings in time order. Returns (alerts opened, alerts resolved)."""
    rules = alerting.rules  # the rules in force when the batch came, for all of it
    by_quantity = rules.by_quantity()
    relevant = [r for r in readings if r.quantity in by_quantity and not is_unreliable(r.flags)]
    if not relevant:
        return 0, 0
    ids = {sensor_ids[r.sensor] for r in relevant}
    active_rules = [rule for rule_list in by_quantity.values() for rule in rule_list]
    window_ms = round(STEL_WINDOW_S * 1000) + GAP_MS
    subjects = subjects_of(session, ids, min(r.ts for r in relevant) - window_ms, max(r.ts for r in relevant),
                           active_rules)
    stored = _load(session, ids, set(subjects.employee_no))
    run = Episodes(session, stored.open_alerts, subjects.sensor_zones)
    dirty: dict[EpisodeKey, dict[str, Any]] = {}
    stel_windows: dict[tuple[str, str, str, int], list[Reading]] = {}
    ordered = sorted(relevant, key=lambda r: r.ts)
    last_ts = {(r.sensor, r.quantity): r.ts for r in ordered}
    mismatched = 0
    for reading in ordered:
        sensor_id = sensor_ids[reading.sensor]
        for rule in rules.for_sensor(reading.sensor, reading.quantity, subjects.sites.get(sensor_id)):
            if rule.zone is not None and reading.sensor not in subjects.zone_sensors.get(rule.zone, ()):
                continue
            worker: int | None = None
            if rule.workers is not None:
                worker = subjects.wearer(sensor_id, reading.ts)
                if worker is None or not rule.matches_worker(subjects.employee_no[worker]):
                    continue
            converted = to_rule_unit(alerting.site_profile, rule, reading.value, reading.unit)
            if converted is None:
                mismatched += 1
                log.warning("rule %s: a %s reading in %s of %s cannot be converted to %s; skipped", rule.id,
                            reading.quantity, reading.unit, reading.sensor, rule.unit)
                continue
            here = reading if converted == reading.value and reading.unit == rule.unit else \
                replace(reading, value=converted, unit=rule.unit)
            key: EpisodeKey = (rule.id, "w", worker) if worker is not None else (rule.id, "s", sensor_id)
            st = dirty.get(key)
            if st is None:
                row = stored.states.get(key)
                st = dirty[key] = json.loads(row.state) if row is not None else {}
            if reading.ts <= st.get("ts", -1):
                continue  # older than what this rule has already seen for the subject
            is_last = last_ts[(reading.sensor, reading.quantity)] == reading.ts
            value = _metric(session, alerting, rule, st, here, sensor_id, worker, key, subjects, is_last,
                            stel_windows)
            st["ts"] = reading.ts
            if value is None:
                continue
            who = (worker, subjects.employee_no[worker]) if worker is not None else None
            run.step(rule, st, here, sensor_id, subjects.sites.get(sensor_id, ""), value, key, who)
    _save(session, stored, dirty)
    session.flush()
    if mismatched:
        alerting.count("alerts_unit_mismatch", mismatched)
    for event in run.events:
        alerting.emit(session, event)
    return run.opened, run.resolved


def _metric(session: Session, alerting: Alerting, rule: Rule, st: dict[str, Any], here: Reading, sensor_id: int,
            worker: int | None, key: EpisodeKey, subjects: Subjects, is_last: bool,
            stel_windows: dict[tuple[str, str, str, int], list[Reading]]) -> float | None:
    """The rule's metric after this reading, or None when there is nothing to evaluate yet."""
    if rule.metric in SHIFT_METRICS:
        if worker is not None:
            roster = subjects.shift(subjects.worker_shifts.get(worker, []), here.ts)
        elif rule.zone is not None:
            roster = subjects.shift(subjects.zone_shifts.get(rule.zone, []), here.ts)
        else:
            roster = None
        return shift_metric(rule, st, here, roster)
    if rule.metric == "stel":
        if not is_last and here.ts - st.get("stel_at", -STEL_STEP_MS) < STEL_STEP_MS:
            return None
        st["stel_at"] = here.ts
        sources = [(sensor_id, -2**62, 2**62)] if worker is None else \
            [(sid, a, b) for a, b, sid in subjects.worn.get(worker, [])]
        return stel_now(session, alerting.site_profile, rule, here, key, sources, stel_windows)
    return here.value

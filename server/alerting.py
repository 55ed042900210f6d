"""Alert episodes, evaluated inside the ingest transaction.

One alert per (rule, subject) episode: the subject is the sensor for sensor and zone rules, the worker for worker
rules (`workers = "<glob>"`: the readings of the personal sensors the worker wears at the reading's time). Readings
in another concentration unit than the rule's are converted (exposure.units, molar volume of the rule's profile,
else the site's); a reading that cannot be converted is counted (`alerts_unit_mismatch`) and skipped. TWA and dose
rules use the roster's shift (server.health assignments of the zone or worker) when one covers the reading, else
"first reading + shift_h"; the alert's detail says which. Per reading and applicable rule the work is O(1): the
rule's metric is updated from a small state row (`alert_state`, `alert_worker_state`), the level timers run on
reading timestamps (never the wall clock), and the alert row is opened, escalated (severity only rises within an
episode) or resolved once the clear condition held for `clear_hold_s`. STEL rules recompute the 15-min average
from a bounded window of stored readings with exposure's functions, at most once per `STEL_STEP_MS` of reading
time per sensor.

Readings flagged `sensor_fault`, `warmup` or `out_of_range` neither open nor clear. Readings flagged `late`
are evaluated, but an alert they open or escalate is marked `late` and its notification says so.

Every transition goes to the audit log and to the listeners (notifications, emergency plans), each in its own
savepoint so a failing listener never loses the batch.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from exposure import InvalidInput, Reading
from exposure.chemical import STEL_WINDOW_S, integral, stel, twa_result
from exposure.noise import dose_contribution, dose_criterion, dose_result
from exposure.results import Coverage
from exposure.segments import DEFAULT_MAX_GAP_S, Segment, series_from_readings, span
from exposure.units import convert_concentration
from server.audit import audit
from server.db.models import Alert, Base, ReadingRow, Sensor
from server.rules import Rule, RuleSet, severity_rank

log = logging.getLogger(__name__)

#: a reading with one of these flags says nothing reliable about the air: it neither opens nor clears an alert
UNRELIABLE = frozenset({"sensor_fault", "warmup", "out_of_range"})
STEL_STEP_MS = 15_000
_GAP_MS = round(DEFAULT_MAX_GAP_S * 1000)


class AlertState(Base):
    """The evaluator state of one (rule, sensor): metric accumulators and level timers, as JSON."""

    __tablename__ = "alert_state"
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sensor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(Text, default="{}")


class AlertWorkerState(Base):
    """The evaluator state of one (rule, worker) of a worker rule (migration 0005)."""

    __tablename__ = "alert_worker_state"
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    worker_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(Text, default="{}")


class EdgeAlarmEvent(Base):
    """An alarm event raised by an agent, stored once per (agent, event id) and linked to its alert."""

    __tablename__ = "edge_alarm_events"
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    alert_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_ms: Mapped[int] = mapped_column(BigInteger)
    payload: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True)
class AlertEvent:
    """One transition of an alert, handed to the listeners."""

    kind: str  # opened | escalated | acknowledged | resolved
    alert_id: int
    rule_id: str
    site: str
    sensor: str
    zone: str | None
    quantity: str
    severity: str
    previous_severity: str | None
    step: int
    value: float
    unit: str
    threshold: float
    ts: int
    late: bool
    message: str
    actor: str = "system"
    note: str = ""
    origin: str = "server"
    worker: str | None = None


Listener = Callable[[Session, AlertEvent], None]


def zone_sensor_names(session: Session, zone: str) -> frozenset[str] | None:
    """The names of the sensors measuring a zone (by code) now, from server.health's zone tables; None when
    server.health is not installed."""
    try:
        from server.health.models import Zone, ZoneSensor
    except ImportError:
        return None
    rows = session.execute(
        select(Sensor.name).join(ZoneSensor, ZoneSensor.sensor_id == Sensor.id)
        .join(Zone, Zone.id == ZoneSensor.zone_id)
        .where(Zone.code == zone, ZoneSensor.end_ms.is_(None))
    ).scalars()
    return frozenset(rows)


def zones_of_sensors(session: Session, sensor_ids: set[int]) -> dict[int, str]:
    """The zone code each sensor measures now (server.health), for routing and emergency plans."""
    try:
        from server.health.models import Zone, ZoneSensor
    except ImportError:
        return {}
    rows = session.execute(
        select(ZoneSensor.sensor_id, Zone.code).join(Zone, Zone.id == ZoneSensor.zone_id)
        .where(ZoneSensor.sensor_id.in_(sensor_ids), ZoneSensor.end_ms.is_(None))
    ).all()
    return {sid: code for sid, code in rows}


#: metrics computed over a shift: they use the roster's shift where one covers the reading
SHIFT_METRICS = frozenset({"twa", "projected_twa", "dose", "projected_dose"})

#: an open episode: (rule id, "s", sensor id) for sensor and zone rules, (rule id, "w", worker id) for worker rules
EpisodeKey = tuple[str, str, int]


@dataclass
class _Presence:
    """Who wears which personal sensor and which rostered shifts cover the batch (server.health), for a batch."""

    wearers: dict[int, list[tuple[int, int, int]]]  # sensor id -> (start, end, worker id)
    worn: dict[int, list[tuple[int, int, int]]]  # worker id -> (start, end, sensor id)
    employee_no: dict[int, str]
    worker_shifts: dict[int, list[tuple[int, int]]]
    zone_shifts: dict[str, list[tuple[int, int]]]

    def wearer(self, sensor_id: int, ts: int) -> int | None:
        return next((w for a, b, w in self.wearers.get(sensor_id, ()) if a <= ts < b), None)

    @staticmethod
    def shift(shifts: list[tuple[int, int]], ts: int) -> tuple[int, int] | None:
        """The rostered shift covering ts (the latest-starting one when several do)."""
        return max(((a, b) for a, b in shifts if a <= ts < b), default=None)


def _presence(session: Session, sensor_ids: set[int], lo: int, hi: int, rules: list[Rule]) -> _Presence:
    out = _Presence({}, {}, {}, {}, {})
    if not any(r.workers is not None or r.metric in SHIFT_METRICS for r in rules):
        return out
    try:
        from server.health.models import Assignment, PersonalSensorAssignment, Worker, Zone
    except ImportError:
        return out
    if any(r.workers is not None for r in rules):
        worn_now = session.execute(
            select(PersonalSensorAssignment.worker_id).where(
                PersonalSensorAssignment.sensor_id.in_(sensor_ids), PersonalSensorAssignment.start_ms <= hi,
                PersonalSensorAssignment.end_ms > lo)
        ).scalars().all()
        rows = session.execute(
            select(PersonalSensorAssignment, Worker.employee_no)
            .join(Worker, Worker.id == PersonalSensorAssignment.worker_id)
            .where(PersonalSensorAssignment.worker_id.in_(set(worn_now)), PersonalSensorAssignment.start_ms <= hi,
                   PersonalSensorAssignment.end_ms > lo)
            .order_by(PersonalSensorAssignment.start_ms)
        ).all()
        for psa, emp in rows:
            out.wearers.setdefault(psa.sensor_id, []).append((psa.start_ms, psa.end_ms, psa.worker_id))
            out.worn.setdefault(psa.worker_id, []).append((psa.start_ms, psa.end_ms, psa.sensor_id))
            out.employee_no[psa.worker_id] = emp
    if not any(r.metric in SHIFT_METRICS for r in rules):
        return out
    if out.employee_no and any(r.workers is not None and r.metric in SHIFT_METRICS for r in rules):
        for wid, a, b in session.execute(
            select(Assignment.worker_id, Assignment.shift_start_ms, Assignment.shift_end_ms).where(
                Assignment.worker_id.in_(set(out.employee_no)), Assignment.shift_start_ms <= hi,
                Assignment.shift_end_ms > lo)
        ).all():
            out.worker_shifts.setdefault(wid, []).append((a, b))
    codes = {r.zone for r in rules if r.zone is not None and r.metric in SHIFT_METRICS}
    if codes:
        for code, a, b in session.execute(
            select(Zone.code, Assignment.shift_start_ms, Assignment.shift_end_ms)
            .join(Zone, Zone.id == Assignment.zone_id)
            .where(Zone.code.in_(codes), Assignment.shift_start_ms <= hi, Assignment.shift_end_ms > lo)
        ).all():
            out.zone_shifts.setdefault(code, []).append((a, b))
    return out


@lru_cache(maxsize=64)
def _molecular_weight(quantity: str) -> float | None:
    from exposure.catalogue import load_catalogue

    try:
        return load_catalogue().substance(quantity).mw
    except InvalidInput:
        return None


def _molar_volume(profile: str) -> float:
    from exposure.profiles import get_profile

    return get_profile(profile).molar_volume


def to_rule_unit(rules: RuleSet, rule: Rule, value: float, unit: str) -> float | None:
    """The value in the rule's unit (exposure.units; ppm <-> mg/m3 with the molar volume of the rule's profile, else
    the site's), or None when it cannot be converted (no molecular weight, not a concentration)."""
    if unit == rule.unit or rule.metric in ("dose", "projected_dose"):
        return value
    try:
        return convert_concentration(value, unit, rule.unit, mw=_molecular_weight(rule.quantity),
                                     molar_volume=_molar_volume(rule.profile or rules.site_profile))
    except InvalidInput:
        return None


def evaluate_thresholds(
    session: Session, readings: tuple[Reading, ...], sensor_ids: dict[str, int], rules: RuleSet
) -> tuple[int, int]:
    """Apply the rules to the readings in time order. Returns (alerts opened, alerts resolved)."""
    by_quantity = rules.by_quantity()
    relevant = [r for r in readings if r.quantity in by_quantity and not UNRELIABLE.intersection(r.flags)]
    if not relevant:
        return 0, 0
    ids = {sensor_ids[r.sensor] for r in relevant}
    sites = dict(session.execute(select(Sensor.id, Sensor.site).where(Sensor.id.in_(ids))).all())
    sensor_zones = zones_of_sensors(session, ids)
    active_rules = [rule for rule_list in by_quantity.values() for rule in rule_list]
    zones: dict[str, frozenset[str] | None] = {}
    for rule in active_rules:
        if rule.zone is not None and rule.zone not in zones:
            zones[rule.zone] = zone_sensor_names(session, rule.zone)
    window_ms = round(STEL_WINDOW_S * 1000) + _GAP_MS
    presence = _presence(session, ids, min(r.ts for r in relevant) - window_ms, max(r.ts for r in relevant),
                         active_rules)
    worker_ids = set(presence.employee_no)
    open_alerts: dict[EpisodeKey, Alert] = {}
    for a in session.execute(
        select(Alert).where(Alert.state != "resolved", Alert.worker_id.is_(None),
                                  Alert.sensor_id.in_(ids))
    ).scalars():
        open_alerts[(a.rule_id, "s", a.sensor_id)] = a
    states: dict[EpisodeKey, AlertState | AlertWorkerState] = {
        (s.rule_id, "s", s.sensor_id): s
        for s in session.execute(select(AlertState).where(AlertState.sensor_id.in_(ids))).scalars()
    }
    if worker_ids:
        for a in session.execute(
            select(Alert).where(Alert.state != "resolved", Alert.worker_id.in_(worker_ids))
        ).scalars():
            open_alerts[(a.rule_id, "w", a.worker_id)] = a  # type: ignore[index]
        for ws in session.execute(
            select(AlertWorkerState).where(AlertWorkerState.worker_id.in_(worker_ids))
        ).scalars():
            states[(ws.rule_id, "w", ws.worker_id)] = ws
    run = _Run(session, rules, open_alerts, sensor_zones)
    dirty: dict[EpisodeKey, dict[str, Any]] = {}
    stel_windows: dict[tuple[str, str, str, int], list[Reading]] = {}
    ordered = sorted(relevant, key=lambda r: r.ts)
    last_ts = {(r.sensor, r.quantity): r.ts for r in ordered}
    mismatched = 0
    for reading in ordered:
        sensor_id = sensor_ids[reading.sensor]
        for rule in by_quantity[reading.quantity]:
            if not rule.applies_to(reading.sensor, reading.quantity, site=sites.get(sensor_id),
                                   zone_sensors=zones.get(rule.zone) if rule.zone else None):
                continue
            worker: int | None = None
            if rule.workers is not None:
                worker = presence.wearer(sensor_id, reading.ts)
                if worker is None or not rule.matches_worker(presence.employee_no[worker]):
                    continue
            converted = to_rule_unit(rules, rule, reading.value, reading.unit)
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
                row = states.get(key)
                st = json.loads(row.state) if row is not None else {}
                dirty[key] = st
            if reading.ts <= st.get("ts", -1):
                continue  # older than what this rule has already seen for the subject
            is_last = last_ts[(reading.sensor, reading.quantity)] == reading.ts
            if rule.metric in SHIFT_METRICS:
                if worker is not None:
                    roster = presence.shift(presence.worker_shifts.get(worker, []), reading.ts)
                elif rule.zone is not None:
                    roster = presence.shift(presence.zone_shifts.get(rule.zone, []), reading.ts)
                else:
                    roster = None
                value = _shift_metric(rule, st, here, roster)
            elif rule.metric == "stel":
                if not is_last and reading.ts - st.get("stel_at", -STEL_STEP_MS) < STEL_STEP_MS:
                    value = None
                else:
                    st["stel_at"] = reading.ts
                    sources = [(sensor_id, -2**62, 2**62)] if worker is None else \
                        [(sid, a, b) for a, b, sid in presence.worn.get(worker, [])]
                    value = _stel_now(session, rules, rule, here, key, sources, stel_windows)
            else:
                value = here.value
            st["ts"] = reading.ts
            if value is None:
                continue
            who = (worker, presence.employee_no[worker]) if worker is not None else None
            run.step(rule, st, here, sensor_id, sites.get(sensor_id, ""), value, key, who)
    for key, st in dirty.items():
        row = states.get(key)
        if row is not None:
            row.state = json.dumps(st)
        elif key[1] == "w":
            session.add(AlertWorkerState(rule_id=key[0], worker_id=key[2], state=json.dumps(st)))
        else:
            session.add(AlertState(rule_id=key[0], sensor_id=key[2], state=json.dumps(st)))
    session.flush()
    if mismatched:
        rules.count("alerts_unit_mismatch", mismatched)
    for event in run.events:
        emit(session, rules, event)
    return run.opened, run.resolved


def emit(session: Session, rules: RuleSet, event: AlertEvent) -> None:
    """Audit the transition and hand it to every listener, each in a savepoint of its own."""
    audit(session, ts_ms=event.ts, actor=event.actor, action=f"alert_{event.kind}", target=f"alert:{event.alert_id}",
          detail=f"rule={event.rule_id} sensor={event.sensor}{' worker=' + event.worker if event.worker else ''}"
                 f" severity={event.severity} value={event.value:g}"
                 f"{' late' if event.late else ''}{' note=' + event.note if event.note else ''}")
    for listener in listeners_of(rules):
        try:
            with session.begin_nested():
                listener(session, event)
        except Exception:
            log.exception("alert listener %r failed for alert %s", listener, event.alert_id)


def listeners_of(rules: RuleSet) -> tuple[Listener, ...]:
    return rules.listeners


class _Run:
    def __init__(self, session: Session, rules: RuleSet, open_alerts: dict[EpisodeKey, Alert],
                 sensor_zones: dict[int, str]) -> None:
        self.session, self.rules, self.open_alerts, self.sensor_zones = session, rules, open_alerts, sensor_zones
        self.events: list[AlertEvent] = []
        self.opened = self.resolved = 0

    def step(self, rule: Rule, st: dict[str, Any], reading: Reading, sensor_id: int, site: str, value: float,
             key: EpisodeKey, worker: tuple[int, str] | None) -> None:
        ts = reading.ts
        since: list[int | None] = st.get("since") or [None] * len(rule.levels)
        if len(since) != len(rule.levels):
            since = [None] * len(rule.levels)
        for i, level in enumerate(rule.levels):
            since[i] = (since[i] if since[i] is not None else ts) if rule.breached(value, level) else None
        st["since"] = since
        hold = round(rule.min_duration_s * 1000)
        active = max((i for i, s in enumerate(since) if s is not None and ts - s >= hold), default=-1)
        clear = rule.cleared(value, rule.levels[0])
        st["clear_since"] = (st.get("clear_since") or ts) if clear else None
        alert = self.open_alerts.get(key)
        late = "late" in reading.flags
        detail = st.get("shift_src")
        if active >= 0:
            level = rule.levels[active]
            if alert is None:
                subject = f"worker {worker[1]}" if worker is not None else reading.sensor
                alert = Alert(
                    rule_id=rule.id, sensor_id=sensor_id, quantity=reading.quantity, severity=level.severity,
                    state="open", message=rule.message or f"{rule.id} on {subject}",
                    threshold=level.threshold, unit=rule.unit, opened_ts=ts, trigger_value=value, worst_value=value,
                    last_ts=ts, site=site, zone=rule.zone or self.sensor_zones.get(sensor_id), metric=rule.metric,
                    current_severity=level.severity,
                    step=0, late=late, worker_id=worker[0] if worker else None, worker=worker[1] if worker else None,
                    detail=detail,
                )
                self.session.add(alert)
                self.session.flush()
                self.open_alerts[key] = alert
                self.opened += 1
                self._event("opened", alert, rule, reading, value, None)
                return
            alert.current_severity = level.severity
            if severity_rank(level.severity) > severity_rank(alert.severity):
                previous = alert.severity
                alert.severity = level.severity
                alert.threshold = level.threshold
                alert.step += 1
                alert.late = alert.late or late
                alert.state = "open"  # the higher severity needs its own acknowledgement
                self._update(alert, rule, value, ts, detail)
                self._event("escalated", alert, rule, reading, value, previous)
                return
        if alert is None:
            return
        self._update(alert, rule, value, ts, detail)
        clear_since = st.get("clear_since")
        if clear_since is not None and ts - clear_since >= round(rule.clear_hold_s * 1000):
            alert.state = "resolved"
            alert.resolved_ts = ts
            alert.resolved_by = "system"
            alert.resolve_reason = f"clear condition held for {rule.clear_hold_s:g} s"
            del self.open_alerts[key]
            st["since"] = [None] * len(rule.levels)
            self.resolved += 1
            self._event("resolved", alert, rule, reading, value, None)

    @staticmethod
    def _update(alert: Alert, rule: Rule, value: float, ts: int, detail: str | None) -> None:
        worse = max if rule.above else min
        alert.worst_value = worse(alert.worst_value, value)
        alert.last_ts = ts
        if detail is not None:
            alert.detail = detail

    def _event(self, kind: str, alert: Alert, rule: Rule, reading: Reading, value: float,
               previous: str | None) -> None:
        self.events.append(AlertEvent(
            kind=kind, alert_id=alert.id, rule_id=rule.id, site=alert.site or "", sensor=reading.sensor,
            zone=alert.zone, quantity=reading.quantity, severity=alert.severity, previous_severity=previous,
            step=alert.step, value=value, unit=rule.unit, threshold=alert.threshold, ts=reading.ts,
            late=alert.late, message=alert.message, worker=alert.worker,
        ))


# -- metrics -----------------------------------------------------------------------------------------------------


def _stel_now(session: Session, rules: RuleSet, rule: Rule, reading: Reading, key: EpisodeKey,
              sources: list[tuple[int, int, int]], windows: dict[tuple[str, str, str, int], list[Reading]]) -> float:
    """The 15-min TWA ending at the reading (exposure.chemical.stel over exactly one window), from the subject's
    readings in the rule's unit: the sensor's, or a worker's personal sensors while worn."""
    window_ms = round(STEL_WINDOW_S * 1000)
    wkey = (reading.quantity, rule.unit, key[1], key[2])
    rows = windows.get(wkey)
    if rows is None or (rows and rows[0].ts > reading.ts - window_ms - _GAP_MS):
        lo, hi = reading.ts - window_ms - _GAP_MS, reading.ts + window_ms
        rows = []
        for sid, a, b in sources:
            for r in session.execute(
                select(ReadingRow).where(
                    ReadingRow.sensor_id == sid, ReadingRow.quantity == reading.quantity,
                    ReadingRow.ts >= max(lo, a), ReadingRow.ts <= hi, ReadingRow.ts < b,
                )
            ).scalars():
                value = to_rule_unit(rules, rule, r.value, r.unit)
                if value is not None:
                    rows.append(Reading(sensor=reading.sensor, quantity=r.quantity, value=value, unit=rule.unit,
                                        ts=r.ts, interval_s=r.interval_s,
                                        flags=tuple(f for f in r.flags.split(",") if f)))
        rows.sort(key=lambda r: r.ts)
        windows[wkey] = rows
    upto = [r for r in rows if r.ts <= reading.ts]
    series = series_from_readings(upto, start_ms=reading.ts - window_ms, end_ms=reading.ts, unit=rule.unit)
    return stel(series).value


def _iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


def _shift_metric(rule: Rule, st: dict[str, Any], reading: Reading, roster: tuple[int, int] | None) -> float | None:
    """TWA / projected TWA / dose / projected dose over the current shift, updated in O(1).

    The shift is the rostered one (server.health assignment of the rule's zone or worker) when one covers the
    reading; otherwise it starts at the first reading and lasts `shift_h`, and the next reading after it starts a
    new one. The time a reading covers is exposure.segments.span; its contribution comes from exposure's formulas.
    `st["shift_src"]` says which shift was used (the alert's detail)."""
    start = st.get("shift_start")
    if roster is not None:
        if start != roster[0] or st.get("shift_end") != roster[1]:
            start = roster[0]
            hours = (roster[1] - roster[0]) / 3_600_000
            st.update(shift_start=start, shift_end=roster[1], total=0.0, covered_ms=0, prev=None, prev2_ts=None,
                      shift_src=f"shift from the roster: {_iso(roster[0])} to {_iso(roster[1])} ({hours:g} h)")
    elif start is None or reading.ts >= st.get("shift_end", start + round(rule.shift_h * 3_600_000)) or \
            str(st.get("shift_src", "")).startswith("shift from the roster"):
        start = reading.ts - round((reading.interval_s or 0) * 1000)
        st.update(shift_start=start, shift_end=start + round(rule.shift_h * 3_600_000), total=0.0, covered_ms=0,
                  prev=None, prev2_ts=None,
                  shift_src=f"no rostered shift covers the readings: shift from the first reading "
                            f"({_iso(start)}) for shift_h = {rule.shift_h:g} h")
    end = st.setdefault("shift_end", start + round(rule.shift_h * 3_600_000))
    shift_ms = end - start
    prev = st.get("prev")
    valid = reading.valid_for_compliance
    iv = None if reading.interval_s is None else round(reading.interval_s * 1000)
    if prev is not None:
        p2 = st.get("prev2_ts")
        ts_list = [p2 if p2 is not None else prev["ts"] - shift_ms, prev["ts"], reading.ts]
        ivs = [None, prev["iv"], iv]
        a, b = span(ts_list, ivs, 1, _GAP_MS)
        a, b = max(a, start), min(b, end)
        if prev["ok"] and b > a:
            st["total"] += _contribution(rule, prev["value"], a, b)
            st["covered_ms"] += b - a
    st["prev2_ts"] = prev["ts"] if prev is not None else None
    st["prev"] = {"ts": reading.ts, "iv": iv, "value": reading.value, "ok": valid}
    total, covered = st["total"], st["covered_ms"]
    if iv is not None and valid:  # an averaged reading's own span is already known
        p1 = st["prev2_ts"] if st["prev2_ts"] is not None else reading.ts - iv
        a, b = span([p1, reading.ts], [None, iv], 1, _GAP_MS)
        a, b = max(a, start), min(b, end)
        if b > a:
            total += _contribution(rule, reading.value, a, b)
            covered += b - a
    if covered <= 0:
        return None
    cov = Coverage(start, end, covered / 1000.0)
    if rule.metric in ("twa", "projected_twa"):
        result = twa_result(total, cov, rule.unit, reference_h=8.0)
        return result.twa if rule.metric == "twa" else result.projected_twa
    dose = dose_result(cov, total, dose_criterion(rule.criterion), shift_h=shift_ms / 3_600_000)
    return dose.dose_percent if rule.metric == "dose" else dose.projected_dose_percent


def _contribution(rule: Rule, value: float, a: int, b: int) -> float:
    if rule.metric in ("dose", "projected_dose"):
        return dose_contribution(value, (b - a) / 1000.0, dose_criterion(rule.criterion))
    return integral([Segment(a, b, value)])


# -- the lifecycle by hand -----------------------------------------------------------------------------------------


class AlertStateError(Exception):
    """The transition does not apply to the alert in its current state."""


def _event_of(alert: Alert, sensor: str, kind: str, ts: int, actor: str, note: str) -> AlertEvent:
    return AlertEvent(
        kind=kind, alert_id=alert.id, rule_id=alert.rule_id, site=alert.site or "", sensor=sensor, zone=alert.zone,
        quantity=alert.quantity, severity=alert.severity, previous_severity=None, step=alert.step,
        value=alert.worst_value, unit=alert.unit, threshold=alert.threshold, ts=ts, late=alert.late,
        message=alert.message, actor=actor, note=note, origin=alert.origin, worker=alert.worker,
    )


def acknowledge(session: Session, rules: RuleSet, alert_id: int, *, user: str, note: str, now_ms: int) -> Alert:
    """open -> acknowledged (who, when, note). Stops repeats and escalation of this step."""
    alert, sensor = _load(session, alert_id)
    if alert.state != "open":
        raise AlertStateError(f"alert {alert_id} is {alert.state}, not open")
    alert.state = "acknowledged"
    alert.acknowledged_by, alert.acknowledged_ms, alert.ack_note = user, now_ms, note
    session.flush()
    emit(session, rules, _event_of(alert, sensor, "acknowledged", now_ms, user, note))
    return alert


def resolve(session: Session, rules: RuleSet, alert_id: int, *, user: str, reason: str, now_ms: int) -> Alert:
    """open | acknowledged -> resolved by hand, with a reason. The evaluator state is reset, so a condition that
    still holds opens a new episode."""
    alert, sensor = _load(session, alert_id)
    if alert.state == "resolved":
        raise AlertStateError(f"alert {alert_id} is already resolved")
    alert.state = "resolved"
    alert.resolved_ts = now_ms
    alert.resolved_by, alert.resolve_reason = user, reason
    row: AlertState | AlertWorkerState | None
    if alert.worker_id is not None:
        row = session.get(AlertWorkerState, (alert.rule_id, alert.worker_id))
    else:
        row = session.get(AlertState, (alert.rule_id, alert.sensor_id))
    if row is not None:
        st = json.loads(row.state)
        st["since"], st["clear_since"] = None, None
        row.state = json.dumps(st)
    session.flush()
    emit(session, rules, _event_of(alert, sensor, "resolved", now_ms, user, reason))
    return alert


def _load(session: Session, alert_id: int) -> tuple[Alert, str]:
    row = session.execute(
        select(Alert, Sensor.name).join(Sensor, Sensor.id == Alert.sensor_id)
        .where(Alert.id == alert_id).with_for_update()
    ).first()
    if row is None:
        raise LookupError(f"no alert {alert_id}")
    return row[0], row[1]


"""Alert episodes, evaluated inside the ingest transaction.

One alert per (rule, sensor) episode. Per reading and applicable rule the work is O(1): the rule's metric is
updated from a small state row (`alert_state`), the level timers run on reading timestamps (never the wall
clock), and the alert row is opened, escalated (severity only rises within an episode) or resolved once the
clear condition held for `clear_hold_s`. STEL rules recompute the 15-min average from a bounded window of stored
readings with exposure's functions, at most once per `STEL_STEP_MS` of reading time per sensor.

Readings flagged `sensor_fault`, `warmup` or `out_of_range` neither open nor clear. Readings flagged `late`
are evaluated, but an alert they open or escalate is marked `late` and its notification says so.

Every transition goes to the audit log and to the listeners (notifications, emergency plans), each in its own
savepoint so a failing listener never loses the batch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Boolean, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from exposure import Reading
from exposure.chemical import STEL_WINDOW_S, integral, stel, twa_result
from exposure.noise import dose_contribution, dose_criterion, dose_result
from exposure.results import Coverage
from exposure.segments import DEFAULT_MAX_GAP_S, Segment, series_from_readings, span
from server.audit import audit
from server.db.models import Alert, Base, ReadingRow, Sensor
from server.rules import Rule, RuleSet, severity_rank

log = logging.getLogger(__name__)

#: a reading with one of these flags says nothing reliable about the air: it neither opens nor clears an alert
UNRELIABLE = frozenset({"sensor_fault", "warmup", "out_of_range"})
STEL_STEP_MS = 15_000
_GAP_MS = round(DEFAULT_MAX_GAP_S * 1000)


class AlertRecord(Alert):
    """The alerts table with its lifecycle columns (migration 0004 adds them to the `alerts` table)."""

    site: Mapped[str | None] = mapped_column(String(64), nullable=True)
    zone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    metric: Mapped[str] = mapped_column(String(24), default="value", server_default="value")
    origin: Mapped[str] = mapped_column(String(16), default="server", server_default="server")
    current_severity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    late: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    acknowledged_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    acknowledged_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    ack_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    resolve_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class AlertState(Base):
    """The evaluator state of one (rule, sensor): metric accumulators and level timers, as JSON."""

    __tablename__ = "alert_state"
    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sensor_id: Mapped[int] = mapped_column(Integer, primary_key=True)
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
    zones: dict[str, frozenset[str] | None] = {}
    for rule_list in by_quantity.values():
        for rule in rule_list:
            if rule.zone is not None and rule.zone not in zones:
                zones[rule.zone] = zone_sensor_names(session, rule.zone)
    open_alerts = {
        (a.rule_id, a.sensor_id): a
        for a in session.execute(
            select(AlertRecord).where(AlertRecord.state != "resolved", AlertRecord.sensor_id.in_(ids))
        ).scalars()
    }
    states = {
        (s.rule_id, s.sensor_id): s
        for s in session.execute(select(AlertState).where(AlertState.sensor_id.in_(ids))).scalars()
    }
    run = _Run(session, rules, open_alerts, sensor_zones)
    dirty: dict[tuple[str, int], dict[str, Any]] = {}
    stel_windows: dict[tuple[str, int], list[Reading]] = {}
    ordered = sorted(relevant, key=lambda r: r.ts)
    last_ts = {(r.sensor, r.quantity): r.ts for r in ordered}
    for reading in ordered:
        sensor_id = sensor_ids[reading.sensor]
        for rule in by_quantity[reading.quantity]:
            if not rule.applies_to(reading.sensor, reading.quantity, reading.unit, site=sites.get(sensor_id),
                                   zone_sensors=zones.get(rule.zone) if rule.zone else None):
                continue
            key = (rule.id, sensor_id)
            st = dirty.get(key)
            if st is None:
                row = states.get(key)
                st = json.loads(row.state) if row is not None else {}
                dirty[key] = st
            if reading.ts <= st.get("ts", -1):
                continue  # older than what this rule has already seen for the sensor
            is_last = last_ts[(reading.sensor, reading.quantity)] == reading.ts
            value = _metric(session, rule, st, reading, sensor_id, stel_windows, is_last=is_last)
            st["ts"] = reading.ts
            if value is None:
                continue
            run.step(rule, st, reading, sensor_id, sites.get(sensor_id, ""), value)
    for key, st in dirty.items():
        row = states.get(key)
        if row is None:
            session.add(AlertState(rule_id=key[0], sensor_id=key[1], state=json.dumps(st)))
        else:
            row.state = json.dumps(st)
    session.flush()
    for event in run.events:
        emit(session, rules, event)
    return run.opened, run.resolved


def emit(session: Session, rules: RuleSet, event: AlertEvent) -> None:
    """Audit the transition and hand it to every listener, each in a savepoint of its own."""
    audit(session, ts_ms=event.ts, actor=event.actor, action=f"alert_{event.kind}", target=f"alert:{event.alert_id}",
          detail=f"rule={event.rule_id} sensor={event.sensor} severity={event.severity} value={event.value:g}"
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
    def __init__(self, session: Session, rules: RuleSet, open_alerts: dict[tuple[str, int], AlertRecord],
                 sensor_zones: dict[int, str]) -> None:
        self.session, self.rules, self.open_alerts, self.sensor_zones = session, rules, open_alerts, sensor_zones
        self.events: list[AlertEvent] = []
        self.opened = self.resolved = 0

    def step(self, rule: Rule, st: dict[str, Any], reading: Reading, sensor_id: int, site: str, value: float) -> None:
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
        key = (rule.id, sensor_id)
        alert = self.open_alerts.get(key)
        late = "late" in reading.flags
        if active >= 0:
            level = rule.levels[active]
            if alert is None:
                alert = AlertRecord(
                    rule_id=rule.id, sensor_id=sensor_id, quantity=reading.quantity, severity=level.severity,
                    state="open", message=rule.message or f"{rule.id} on {reading.sensor}",
                    threshold=level.threshold, unit=rule.unit, opened_ts=ts, trigger_value=value, worst_value=value,
                    last_ts=ts, site=site, zone=rule.zone or self.sensor_zones.get(sensor_id), metric=rule.metric,
                    current_severity=level.severity,
                    step=0, late=late,
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
                self._update(alert, rule, value, ts)
                self._event("escalated", alert, rule, reading, value, previous)
                return
        if alert is None:
            return
        self._update(alert, rule, value, ts)
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
    def _update(alert: AlertRecord, rule: Rule, value: float, ts: int) -> None:
        worse = max if rule.above else min
        alert.worst_value = worse(alert.worst_value, value)
        alert.last_ts = ts

    def _event(self, kind: str, alert: AlertRecord, rule: Rule, reading: Reading, value: float,
               previous: str | None) -> None:
        self.events.append(AlertEvent(
            kind=kind, alert_id=alert.id, rule_id=rule.id, site=alert.site or "", sensor=reading.sensor,
            zone=alert.zone, quantity=reading.quantity, severity=alert.severity, previous_severity=previous,
            step=alert.step, value=value, unit=rule.unit, threshold=alert.threshold, ts=reading.ts,
            late=alert.late, message=alert.message,
        ))


# -- metrics -----------------------------------------------------------------------------------------------------


def _metric(session: Session, rule: Rule, st: dict[str, Any], reading: Reading, sensor_id: int,
            windows: dict[tuple[str, int], list[Reading]], *, is_last: bool) -> float | None:
    if rule.metric == "value":
        return reading.value
    if rule.metric == "stel":
        if not is_last and reading.ts - st.get("stel_at", -STEL_STEP_MS) < STEL_STEP_MS:
            return None
        st["stel_at"] = reading.ts
        return _stel_now(session, rule, reading, sensor_id, windows)
    return _shift_metric(rule, st, reading)


def _stel_now(session: Session, rule: Rule, reading: Reading, sensor_id: int,
              windows: dict[tuple[str, int], list[Reading]]) -> float:
    """The 15-min TWA ending at the reading (exposure.chemical.stel over exactly one window)."""
    window_ms = round(STEL_WINDOW_S * 1000)
    key = (reading.quantity, sensor_id)
    rows = windows.get(key)
    if rows is None or (rows and rows[0].ts > reading.ts - window_ms - _GAP_MS):
        rows = [
            Reading(sensor=reading.sensor, quantity=r.quantity, value=r.value, unit=r.unit, ts=r.ts,
                    interval_s=r.interval_s, flags=tuple(f for f in r.flags.split(",") if f))
            for r in session.execute(
                select(ReadingRow).where(
                    ReadingRow.sensor_id == sensor_id, ReadingRow.quantity == reading.quantity,
                    ReadingRow.ts >= reading.ts - window_ms - _GAP_MS, ReadingRow.ts <= reading.ts + window_ms,
                ).order_by(ReadingRow.ts)
            ).scalars()
            if r.unit == rule.unit
        ]
        windows[key] = rows
    upto = [r for r in rows if r.ts <= reading.ts]
    series = series_from_readings(upto, start_ms=reading.ts - window_ms, end_ms=reading.ts, unit=rule.unit)
    return stel(series).value


def _shift_metric(rule: Rule, st: dict[str, Any], reading: Reading) -> float | None:
    """TWA / projected TWA / dose / projected dose over the current shift, updated in O(1).

    The shift starts at the first reading and lasts `shift_h`; the next reading after it starts a new one. The
    time a reading covers is exposure.segments.span; its contribution comes from exposure's formulas."""
    shift_ms = round(rule.shift_h * 3_600_000)
    start = st.get("shift_start")
    if start is None or reading.ts >= start + shift_ms:
        start = reading.ts - round((reading.interval_s or 0) * 1000)
        st.update(shift_start=start, total=0.0, covered_ms=0, prev=None, prev2_ts=None)
    end = start + shift_ms
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
    dose = dose_result(cov, total, dose_criterion(rule.criterion), shift_h=rule.shift_h)
    return dose.dose_percent if rule.metric == "dose" else dose.projected_dose_percent


def _contribution(rule: Rule, value: float, a: int, b: int) -> float:
    if rule.metric in ("dose", "projected_dose"):
        return dose_contribution(value, (b - a) / 1000.0, dose_criterion(rule.criterion))
    return integral([Segment(a, b, value)])


# -- the lifecycle by hand -----------------------------------------------------------------------------------------


class AlertStateError(Exception):
    """The transition does not apply to the alert in its current state."""


def _event_of(alert: AlertRecord, sensor: str, kind: str, ts: int, actor: str, note: str) -> AlertEvent:
    return AlertEvent(
        kind=kind, alert_id=alert.id, rule_id=alert.rule_id, site=alert.site or "", sensor=sensor, zone=alert.zone,
        quantity=alert.quantity, severity=alert.severity, previous_severity=None, step=alert.step,
        value=alert.worst_value, unit=alert.unit, threshold=alert.threshold, ts=ts, late=alert.late,
        message=alert.message, actor=actor, note=note, origin=alert.origin,
    )


def acknowledge(session: Session, rules: RuleSet, alert_id: int, *, user: str, note: str, now_ms: int) -> AlertRecord:
    """open -> acknowledged (who, when, note). Stops repeats and escalation of this step."""
    alert, sensor = _load(session, alert_id)
    if alert.state != "open":
        raise AlertStateError(f"alert {alert_id} is {alert.state}, not open")
    alert.state = "acknowledged"
    alert.acknowledged_by, alert.acknowledged_ms, alert.ack_note = user, now_ms, note
    session.flush()
    emit(session, rules, _event_of(alert, sensor, "acknowledged", now_ms, user, note))
    return alert


def resolve(session: Session, rules: RuleSet, alert_id: int, *, user: str, reason: str, now_ms: int) -> AlertRecord:
    """open | acknowledged -> resolved by hand, with a reason. The evaluator state is reset, so a condition that
    still holds opens a new episode."""
    alert, sensor = _load(session, alert_id)
    if alert.state == "resolved":
        raise AlertStateError(f"alert {alert_id} is already resolved")
    alert.state = "resolved"
    alert.resolved_ts = now_ms
    alert.resolved_by, alert.resolve_reason = user, reason
    row = session.get(AlertState, (alert.rule_id, alert.sensor_id))
    if row is not None:
        st = json.loads(row.state)
        st["since"], st["clear_since"] = None, None
        row.state = json.dumps(st)
    session.flush()
    emit(session, rules, _event_of(alert, sensor, "resolved", now_ms, user, reason))
    return alert


def _load(session: Session, alert_id: int) -> tuple[AlertRecord, str]:
    row = session.execute(
        select(AlertRecord, Sensor.name).join(Sensor, Sensor.id == AlertRecord.sensor_id)
        .where(AlertRecord.id == alert_id).with_for_update()
    ).first()
    if row is None:
        raise LookupError(f"no alert {alert_id}")
    return row[0], row[1]


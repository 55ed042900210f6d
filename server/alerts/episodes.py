"""The alert episode state machine: one alert per (rule, subject) episode, opened when a level's condition has
held for `min_duration_s`, escalated when a higher level holds (severity only rises within an episode), resolved
once the clear condition held for `clear_hold_s`. Level timers run on reading timestamps, never the wall clock;
their state lives in the rule's state dict (`since`, `clear_since`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from exposure import Reading
from exposure.wire import severity_rank
from server.alerts.metrics import EpisodeKey
from server.alerts.models import Alert
from server.alerts.rules import Rule
from server.events import AlertEvent


def advance_levels(st: dict[str, Any], rule: Rule, value: float, ts: int) -> tuple[int, bool]:
    """The level timers, pure: update `st` with this value at `ts` and return (the highest level whose condition
    has held for `min_duration_s`, or -1; whether the clear condition has held for `clear_hold_s`)."""
    since: list[int | None] = st.get("since") or [None] * len(rule.levels)
    if len(since) != len(rule.levels):
        since = [None] * len(rule.levels)
    for i, level in enumerate(rule.levels):
        since[i] = (since[i] if since[i] is not None else ts) if rule.breached(value, level) else None
    st["since"] = since
    hold = round(rule.min_duration_s * 1000)
    active = max((i for i, s in enumerate(since) if s is not None and ts - s >= hold), default=-1)
    clear_since = (st.get("clear_since") or ts) if rule.cleared(value, rule.levels[0]) else None
    st["clear_since"] = clear_since
    return active, clear_since is not None and ts - clear_since >= round(rule.clear_hold_s * 1000)


class Episodes:
    """The open episodes of a batch's subjects and the transitions they go through while it is evaluated."""

    def __init__(self, session: Session, open_alerts: dict[EpisodeKey, Alert], sensor_zones: dict[int, str]) -> None:
        self.session, self.open_alerts, self.sensor_zones = session, open_alerts, sensor_zones
        self.events: list[AlertEvent] = []
        self.opened = self.resolved = 0

    def step(self, rule: Rule, st: dict[str, Any], reading: Reading, sensor_id: int, site: str, value: float,
             key: EpisodeKey, worker: tuple[int, str] | None) -> None:
        ts = reading.ts
        active, cleared = advance_levels(st, rule, value, ts)
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
        if cleared:
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



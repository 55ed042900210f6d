"""Threshold alert episodes: open one alert per (rule, sensor) when a value crosses its rule, keep it open
while the value stays over, resolve it on the first valid value back on the safe side."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from exposure import Reading
from server.db.models import Alert
from server.rules import RuleSet

#: a reading with one of these flags says nothing reliable about the air: it neither opens nor clears an alert
_UNRELIABLE = frozenset({"sensor_fault", "warmup", "out_of_range"})


def evaluate_thresholds(
    session: Session, readings: tuple[Reading, ...], sensor_ids: dict[str, int], rules: RuleSet
) -> tuple[int, int]:
    """Apply the rules to the readings in time order. Returns (alerts opened, alerts resolved)."""
    by_quantity = rules.by_quantity()
    relevant = [r for r in readings if r.quantity in by_quantity and not _UNRELIABLE.intersection(r.flags)]
    if not relevant:
        return 0, 0
    open_alerts = {
        (a.rule_id, a.sensor_id): a
        for a in session.execute(
            select(Alert).where(
                Alert.state != "resolved", Alert.sensor_id.in_({sensor_ids[r.sensor] for r in relevant})
            )
        ).scalars()
    }
    opened = resolved = 0
    for reading in sorted(relevant, key=lambda r: r.ts):
        sensor_id = sensor_ids[reading.sensor]
        for rule in by_quantity[reading.quantity]:
            if not rule.applies_to(reading.sensor, reading.quantity, reading.unit):
                continue
            key = (rule.id, sensor_id)
            alert = open_alerts.get(key)
            if alert is not None and reading.ts < alert.last_ts:
                continue  # older than what this episode has already seen
            if rule.breached(reading.value):
                if alert is None:
                    alert = Alert(
                        rule_id=rule.id,
                        sensor_id=sensor_id,
                        quantity=reading.quantity,
                        severity=rule.severity,
                        state="open",
                        message=rule.message or f"{rule.id} on {reading.sensor}",
                        threshold=rule.threshold,
                        unit=rule.unit,
                        opened_ts=reading.ts,
                        trigger_value=reading.value,
                        worst_value=reading.value,
                        last_ts=reading.ts,
                    )
                    session.add(alert)
                    open_alerts[key] = alert
                    opened += 1
                else:
                    worse = max if rule.above is not None else min
                    alert.worst_value = worse(alert.worst_value, reading.value)
                    alert.last_ts = reading.ts
            elif alert is not None:
                alert.state = "resolved"
                alert.resolved_ts = reading.ts
                alert.last_ts = reading.ts
                del open_alerts[key]
                resolved += 1
    session.flush()
    return opened, resolved

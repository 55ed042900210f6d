"""Watchdogs: not watching is an alert (DESIGN §9). Rules `watchdog.<kind>`, in the alert lifecycle like any
other (the same notifications, escalation and pages):

- `watchdog.sensor_silent`: no valid reading (none without an unreliable flag: `sensor_fault`, `warmup`,
  `out_of_range`) from a sensor for max(`silent_factor` x its usual interval,
  `silent_min_s`), the interval learned on ingest (`latest.interval_ms`); resolves when readings return. Not
  raised for the sensors of an agent that is offline: `watchdog.agent_offline` already says why.
- `watchdog.agent_offline`: no batch and no status from an agent for `agent_offline_s`, or its Last Will
  (status `offline`); resolves when it is heard again.
- `watchdog.agent_outbox`: the agent reports its outbox full or its disk full; resolves when it reports neither.
- `watchdog.calibration_due`: today (UTC, the server's clock) is after a sensor's calibration or bump-test due
  date in the calibration register (server.calibration), or an interval is set and none is recorded; the message
  says which and since when. Resolves when the register holds due dates not past (updated in the API or by the
  agent's config). Its severity is `calibration_severity`.

Defaults (a site changes them with HAZMON_WATCHDOG_* settings): 3 x the interval, at least 60 s; 60 s offline;
checked every 5 s; severity warning. `conditions()` is pure (time is an argument); `check()` applies it to the
database and `run()` repeats that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from server.alerts.models import Alert
from server.alerts.service import Alerting
from server.alerts.subject_name import select_alerts
from server.calibration.due import Register, overdue, start_of_day_ms, utc_date
from server.calibration.service import registers
from server.errors import safe_traceback
from server.events import AlertEvent
from server.series.models import Agent, AgentStatus, Latest, Sensor
from server.settings import Settings

log = logging.getLogger(__name__)

SENSOR_SILENT = "watchdog.sensor_silent"
AGENT_OFFLINE = "watchdog.agent_offline"
AGENT_OUTBOX = "watchdog.agent_outbox"
CALIBRATION_DUE = "watchdog.calibration_due"
RULES = (SENSOR_SILENT, AGENT_OFFLINE, AGENT_OUTBOX, CALIBRATION_DUE)


@dataclass(frozen=True)
class WatchdogConfig:
    silent_factor: float = 3.0
    silent_min_s: float = 60.0
    agent_offline_s: float = 60.0
    interval_s: float = 5.0
    severity: str = "warning"
    calibration_severity: str = "warning"


@dataclass(frozen=True)
class SensorSeen:
    sensor_id: int
    name: str
    site: str
    agent_id: int
    last_ts: int | None
    interval_ms: int | None


@dataclass(frozen=True)
class AgentSeen:
    agent_id: int
    name: str
    site: str
    last_heard_ms: int | None
    state: str  # online | offline | unknown
    outbox_full: bool
    disk_full: bool


@dataclass(frozen=True)
class CalibrationSeen:
    sensor_id: int
    name: str
    site: str
    register: Register


@dataclass(frozen=True)
class Condition:
    """A watchdog that should be open now: its rule, subject, how long (s) against what limit (s), and why."""

    rule_id: str
    site: str
    subject: str
    sensor_id: int | None
    agent_id: int | None
    value_s: float
    limit_s: float
    message: str


def config_of(settings: Settings) -> WatchdogConfig:
    return WatchdogConfig(silent_factor=settings.watchdog_silent_factor, silent_min_s=settings.watchdog_silent_min_s,
                          agent_offline_s=settings.watchdog_agent_offline_s, interval_s=settings.watchdog_interval_s,
                          severity=settings.watchdog_severity,
                          calibration_severity=settings.watchdog_calibration_severity)


def silent_limit_s(interval_ms: int | None, config: WatchdogConfig) -> float:
    """How long a sensor may stay quiet: max(factor x its usual interval, the minimum)."""
    usual = (interval_ms or 0) / 1000
    return max(config.silent_factor * usual, config.silent_min_s)


def conditions(sensors: Iterable[SensorSeen], agents: Iterable[AgentSeen], *, now_ms: int,
               config: WatchdogConfig, calibrations: Iterable[CalibrationSeen] = ()) -> list[Condition]:
    out: list[Condition] = []
    offline: set[int] = set()
    for a in agents:
        quiet_s = (now_ms - a.last_heard_ms) / 1000 if a.last_heard_ms is not None else None
        if a.state == "offline" or (quiet_s is not None and quiet_s > config.agent_offline_s):
            offline.add(a.agent_id)
            why = "its broker reported it gone (Last Will)" if a.state == "offline" else \
                f"nothing heard for {quiet_s:.0f} s"
            out.append(Condition(AGENT_OFFLINE, a.site, f"agent:{a.name}", None, a.agent_id, quiet_s or 0.0,
                                 config.agent_offline_s, f"agent {a.site}/{a.name} is offline: {why}"))
        elif a.outbox_full or a.disk_full:
            what = "its disk is full" if a.disk_full else "its outbox is full"
            out.append(Condition(AGENT_OUTBOX, a.site, f"agent:{a.name}", None, a.agent_id, 0.0, 0.0,
                                 f"agent {a.site}/{a.name}: {what}; readings may be dropped"))
    for s in sensors:
        if s.last_ts is None or s.agent_id in offline:
            continue
        quiet_s = (now_ms - s.last_ts) / 1000
        limit = silent_limit_s(s.interval_ms, config)
        if quiet_s > limit:
            out.append(Condition(SENSOR_SILENT, s.site, s.name, s.sensor_id, None, quiet_s, limit,
                                 f"sensor {s.name} is silent: no valid reading for {quiet_s:.0f} s "
                                 f"(limit {limit:.0f} s)"))
    today = utc_date(now_ms)
    for c in calibrations:
        late = overdue(c.register, today)
        if late:
            since = [start_of_day_ms(o.since) for o in late if o.since is not None]
            out.append(Condition(CALIBRATION_DUE, c.site, c.name, c.sensor_id, None,
                                 (now_ms - min(since)) / 1000 if since else 0.0, 0.0,
                                 f"sensor {c.name}: " + "; ".join(o.describe() for o in late)))
    return out


def severity_of(rule_id: str, config: WatchdogConfig) -> str:
    return config.calibration_severity if rule_id == CALIBRATION_DUE else config.severity


def _calibrations(session: Session) -> list[CalibrationSeen]:
    entries = registers(session)
    if not entries:
        return []
    return [CalibrationSeen(sid, name, site, entries[sid]) for sid, name, site in session.execute(
        select(Sensor.id, Sensor.name, Sensor.site).where(Sensor.id.in_(list(entries))))]


def _seen(session: Session) -> tuple[list[SensorSeen], list[AgentSeen]]:
    latest = (
        select(Latest.sensor_id, func.max(Latest.valid_ts).label("ts"),
               func.max(Latest.interval_ms).label("interval"))
        .group_by(Latest.sensor_id).subquery()
    )
    sensors = [  # a sensor that never gave a valid reading is silent since it was first seen
        SensorSeen(sid, name, site, agent_id, ts, interval)
        for sid, name, site, agent_id, ts, interval in session.execute(
            select(Sensor.id, Sensor.name, Sensor.site, Sensor.agent_id,
                   func.coalesce(latest.c.ts, Sensor.first_seen_ms), latest.c.interval)
            .join(latest, latest.c.sensor_id == Sensor.id)
        ).all()
    ]
    agents = []
    for agent, status in session.execute(
        select(Agent, AgentStatus).outerjoin(AgentStatus, AgentStatus.agent_id == Agent.id)
    ).all():
        heard = [t for t in (agent.last_seen_ms, status.reported_ms if status else None) if t is not None]
        if not heard:
            continue  # registered, never heard from: not yet deployed
        agents.append(AgentSeen(agent.id, agent.name, agent.site, max(heard), status.state if status else "unknown",
                                bool(status and status.outbox_full), bool(status and status.disk_full)))
    return sensors, agents


def check(session: Session, alerting: Alerting, *, now_ms: int, config: WatchdogConfig) -> tuple[int, int]:
    """Open the watchdog alerts whose condition holds and resolve those whose condition passed; commit.
    Returns (opened, resolved)."""
    sensors, agents = _seen(session)
    wanted = {(c.rule_id, c.sensor_id, c.agent_id): c for c in conditions(
        sensors, agents, now_ms=now_ms, config=config, calibrations=_calibrations(session))}
    open_alerts = {
        (a.rule_id, a.sensor_id, a.agent_id): a
        for a in session.execute(select(Alert).where(Alert.rule_id.in_(RULES), Alert.state != "resolved")).scalars()
    }
    events: list[AlertEvent] = []
    for key, c in wanted.items():
        alert = open_alerts.get(key)
        if alert is not None:
            alert.worst_value, alert.last_ts = max(alert.worst_value, c.value_s), now_ms
            if c.rule_id == CALIBRATION_DUE:
                alert.message = c.message  # which checks are overdue may change within the episode
            continue
        severity = severity_of(c.rule_id, config)
        alert = Alert(rule_id=c.rule_id, sensor_id=c.sensor_id, agent_id=c.agent_id, quantity="-",
                      severity=severity, state="open", message=c.message, threshold=c.limit_s, unit="s",
                      opened_ts=now_ms, trigger_value=c.value_s, worst_value=c.value_s, last_ts=now_ms, site=c.site,
                      metric="watchdog", origin="watchdog", current_severity=severity, step=0)
        session.add(alert)
        session.flush()
        events.append(_event(alert, c.subject, "opened", now_ms))
    subjects = {(c.rule_id, c.sensor_id, c.agent_id): c.subject for c in wanted.values()}
    names = _subject_names(session, [a for k, a in open_alerts.items() if k not in wanted])
    for key, alert in open_alerts.items():
        if key in wanted:
            continue
        alert.state, alert.resolved_ts, alert.last_ts = "resolved", now_ms, now_ms
        alert.resolved_by, alert.resolve_reason = "system", "the watchdog's condition passed"
        events.append(_event(alert, subjects.get(key) or names.get(alert.id, "?"), "resolved", now_ms))
    for event in events:
        alerting.emit(session, event)
    session.commit()
    return (sum(e.kind == "opened" for e in events), sum(e.kind == "resolved" for e in events))


def _subject_names(session: Session, alerts: list[Alert]) -> dict[int, str]:
    if not alerts:
        return {}
    rows = session.execute(select_alerts().where(Alert.id.in_([a.id for a in alerts]))).all()
    return {a.id: name for a, name in rows}


def _event(alert: Alert, subject: str, kind: str, now_ms: int) -> AlertEvent:
    return AlertEvent(kind=kind, alert_id=alert.id, rule_id=alert.rule_id, site=alert.site or "", sensor=subject,
                      zone=alert.zone, quantity=alert.quantity, severity=alert.severity, previous_severity=None,
                      step=alert.step, value=alert.worst_value, unit="s", threshold=alert.threshold, ts=now_ms,
                      late=False, message=alert.message, origin="watchdog")


async def run(sessions: Callable[[], Session], alerting: Alerting, *, clock: Callable[[], int],
              config: WatchdogConfig) -> None:
    """Check every `config.interval_s` until cancelled; a failed check is logged and counted, never fatal."""
    while True:
        try:
            def once() -> tuple[int, int]:
                with sessions() as session:
                    return check(session, alerting, now_ms=clock(), config=config)

            await run_in_threadpool(once)
        except Exception as exc:
            alerting.count("watchdog_check_failures")
            log.error("watchdog check failed: %s", safe_traceback(exc))
        await asyncio.sleep(config.interval_s)

"""`GET /metrics`: the server's own state for Prometheus, read at scrape time by one collector (nothing else in the
server is instrumented for it).

Metrics (prefix `hazmon_server_`):
- `events_total{event}`: the in-process counters (server/counters.py, also in /api/v1/status): readings and batches
  accepted (`ingest_readings`, `ingest_batches`), refusals by reason (`ingest_rejected_*`), MQTT disconnects and
  handler errors, InfluxDB write failures, ... An event appears at its first occurrence; all restart at 0 with the
  process.
- `alerts_open{rule,severity}`: alerts not resolved, by rule and current severity; `watchdogs_open{kind}`: those
  of the `watchdog.<kind>` rules (every kind, 0 included).
- `notifications_pending` (due and not yet delivered), `notifications_retrying` (pending again after a failed
  attempt), `notifications_failed` (given up after the last attempt): the delivery queue (server/notify).
- `database_up` (a `SELECT 1` and the queries above succeeded), `mqtt_connected` and `influx_up` (only when MQTT
  ingest / the InfluxDB forwarder is configured), `agents{state}` (online / offline, as `GET /api/v1/agents`
  judges them).

No personal data: the labels are events, rules, severities, kinds and states (no worker, no health data). With
`HAZMON_METRICS_TOKEN` set the route needs `Authorization: Bearer <token>`; without it, it is deliberately public.
A registry is built per scrape (the collector reads the app's `Services`), so apps never share one.
"""

from __future__ import annotations

import hmac
import logging
from collections import Counter
from collections.abc import Iterator

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.accounts.auth import bearer_token, unauthorized
from server.alerts.models import Alert
from server.alerts.watchdogs import RULES as WATCHDOG_RULES
from server.errors import safe_traceback
from server.ingest.liveness import agent_state
from server.notify.models import NotificationJob
from server.series.models import Agent, AgentStatus
from server.services import Services, ServicesDep

log = logging.getLogger(__name__)

PREFIX = "hazmon_server_"
WATCHDOG = "watchdog."


class ServerCollector:
    """Every `hazmon_server_*` metric, read from the live services at each scrape."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[Metric]:
        events = CounterMetricFamily(f"{PREFIX}events", "What the server did or refused, by event (server counters)",
                                     labels=["event"])
        for name, n in sorted(self.services.counters.snapshot().items()):
            events.add_metric([name], n)
        yield events
        database = self._from_database()
        yield _gauge("database_up", "1 when the database answers", 0 if database is None else 1)
        yield from database or ()
        if self.services.mqtt is not None:
            yield _gauge("mqtt_connected", "1 while MQTT ingest is subscribed at the broker",
                         int(self.services.mqtt.connected.is_set()))
        if self.services.influx is not None:
            yield _gauge("influx_up", "1 while the InfluxDB forwarder writes", int(self.services.influx.healthy))

    def _from_database(self) -> list[Metric] | None:
        """The families read from SQL, or None when the database does not answer."""
        try:
            with self.services.sessions() as session:
                session.execute(text("SELECT 1"))
                return [*_alerts(session), *_notifications(session, self.services.now_ms()),
                        _agents(session, self.services.now_ms())]
        except SQLAlchemyError as exc:
            log.warning("metrics: the database does not answer: %s", safe_traceback(exc))
            return None


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}{name}", documentation, value=value)


def _alerts(session: Session) -> list[Metric]:
    severity = func.coalesce(Alert.current_severity, Alert.severity)
    rows = session.execute(
        select(Alert.rule_id, severity, func.count()).where(Alert.state != "resolved")
        .group_by(Alert.rule_id, severity).order_by(Alert.rule_id, severity)
    ).all()
    alerts = GaugeMetricFamily(f"{PREFIX}alerts_open", "Alerts not resolved, by rule and current severity",
                               labels=["rule", "severity"])
    watchdogs: Counter[str] = Counter({rule.removeprefix(WATCHDOG): 0 for rule in WATCHDOG_RULES})
    for rule, sev, n in rows:
        alerts.add_metric([rule, sev], n)
        if rule.startswith(WATCHDOG):
            watchdogs[rule.removeprefix(WATCHDOG)] += n
    open_watchdogs = GaugeMetricFamily(f"{PREFIX}watchdogs_open", "Watchdog alerts not resolved, by kind",
                                       labels=["kind"])
    for kind, n in sorted(watchdogs.items()):
        open_watchdogs.add_metric([kind], n)
    return [alerts, open_watchdogs]


def _notifications(session: Session, now_ms: int) -> list[Metric]:
    job = NotificationJob
    due = or_(job.state == "sending", (job.state == "pending") & (job.due_ms <= now_ms))
    pending, retrying, failed = session.execute(select(
        func.count().filter(due),
        func.count().filter(job.state == "pending", job.attempts > 0),
        func.count().filter(job.state == "failed"),
    )).one()
    return [
        _gauge("notifications_pending", "Notifications due and not yet delivered", pending),
        _gauge("notifications_retrying", "Notifications waiting for a retry after a failed attempt", retrying),
        _gauge("notifications_failed", "Notifications given up after their last attempt", failed),
    ]


def _agents(session: Session, now_ms: int) -> Metric:
    """Online or offline by server.ingest.liveness, the rule GET /api/v1/agents and the agents page use."""
    states = Counter({"online": 0, "offline": 0})
    for last_seen, reported, state in session.execute(
        select(Agent.last_seen_ms, AgentStatus.reported_ms, AgentStatus.state)
        .outerjoin(AgentStatus, AgentStatus.agent_id == Agent.id)
    ).all():
        states[agent_state(state, last_seen_ms=last_seen, reported_ms=reported, now_ms=now_ms)] += 1
    agents = GaugeMetricFamily(f"{PREFIX}agents", "Registered agents, online or offline", labels=["state"])
    for state, n in sorted(states.items()):
        agents.add_metric([state], n)
    return agents


def require_metrics_token(request: Request, services: ServicesDep) -> None:
    """`Authorization: Bearer <HAZMON_METRICS_TOKEN>`; no check when the setting is empty (public /metrics)."""
    expected = services.settings.metrics_token
    if not expected:
        return
    given = bearer_token(request)
    if given is None or not hmac.compare_digest(given.encode(), expected.encode()):
        raise unauthorized("the metrics token (HAZMON_METRICS_TOKEN) is required")


router = APIRouter(include_in_schema=False)


@router.get("/metrics", dependencies=[Depends(require_metrics_token)])
def metrics(services: ServicesDep) -> Response:
    """The Prometheus text format."""
    registry = CollectorRegistry()
    registry.register(ServerCollector(services))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

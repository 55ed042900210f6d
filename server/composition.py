"""The composition root: `build_services(settings)` creates every service once, wires the event subscribers,
and `lifespan(services)` starts and stops every background task. `create_app` (server/app.py) calls both; nothing
else creates a service.

Validation happens here, before serving: a bad rules file, notification file or emergency plan raises with a
one-line message naming the file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from starlette.concurrency import run_in_threadpool

from server.accounts.documents import stored_document
from server.accounts.throttle import LoginThrottle
from server.alerts import watchdogs
from server.alerts.rule_file import load_rules, parse_rules
from server.alerts.service import Alerting
from server.counters import Counters
from server.db.session import make_engine, make_sessionmaker, upgrade
from server.emergency.records import IncidentRecordsSQL
from server.emergency.service import Emergency
from server.errors import safe_traceback
from server.events import AlertEvent, Events, IncidentCall, IncidentOpened, ReadingsBackfilled, ShiftsChanged
from server.health.links import HealthLinks
from server.health.scheduler import run_scheduler
from server.ingest.mqtt import MqttIngest
from server.notify.service import Notifier, load_notify_config
from server.plugin_manager import build_server_plugins
from server.series.influx import InfluxForwarder
from server.services import Services
from server.settings import Settings
from server.web.shift_exposure import exposure_by_zone
from server.web.shift_totals import ShiftTotals

log = logging.getLogger(__name__)


def build_services(settings: Settings, *, clock: Callable[[], int]) -> Services:
    rules = load_rules(settings.rules_file)
    notify_config = load_notify_config(settings.notify_file)
    counters = Counters()
    events = Events(counters)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    plugins = build_server_plugins()
    health = settings.health
    alerting = Alerting(rules, events=events, counters=counters, site_profile=settings.profile)
    notifier = Notifier(notify_config, channels=plugins.notification_channels(), clock=clock)
    emergency = Emergency.from_settings(settings, events=events, clock=clock)
    links = HealthLinks(health)
    # the subscribers, in the order they run: notify first, so a failing link never delays a page
    events.subscribe(AlertEvent, notifier.on_alert, name="notify")
    events.subscribe(AlertEvent, links.on_alert, name="health")
    events.subscribe(AlertEvent, emergency.on_alert, name="emergency")
    events.subscribe(IncidentOpened, notifier.on_incident, name="notify")
    events.subscribe(IncidentOpened, links.on_incident, name="health")
    events.subscribe(IncidentCall, notifier.on_incident_call, name="notify")
    events.subscribe(ReadingsBackfilled, links.on_backfill, name="health")
    events.subscribe(ShiftsChanged, links.on_shifts_changed, name="health")
    shift_totals = ShiftTotals(clock, sessions)
    events.subscribe(ReadingsBackfilled, shift_totals.on_backfill, name="web")
    mqtt = MqttIngest(settings, sessions=sessions, alerting=alerting, events=events, counters=counters,
                      clock=clock) if settings.mqtt_url else None
    influx = InfluxForwarder(settings.influx_url, sessions=sessions, counters=counters, clock=clock,
                             retry_max_s=settings.retry_max_s) if settings.influx_url else None
    return Services(
        settings=settings, clock=clock, engine=engine, sessions=sessions, counters=counters, events=events,
        alerting=alerting, notifier=notifier, emergency=emergency, incidents=IncidentRecordsSQL(), health=health,
        plugins=plugins, mqtt=mqtt, influx=influx,
        login_throttle=LoginThrottle(per_account=settings.login_max_failures,
                                     per_address=settings.login_max_failures_per_address,
                                     window_s=settings.login_window_s),
        shift_totals=shift_totals,
    )


def _load_stored_settings(services: Services) -> None:
    """Settings saved through the API replace the files'."""
    with services.sessions() as session:
        services.notifier.load_stored(session)
        text = stored_document(session, "rules")
        if text is not None:
            services.alerting.install(parse_rules(text, name="rules (API)"))


def _start_shift_totals(services: Services) -> None:
    """Start folding every zone's shift so far in the background, so the first dashboard after a restart does
    not wait for it (server/web/shift_totals.py)."""
    try:
        with services.sessions() as session:
            exposure_by_zone(session, services.alerting.rules, services.shift_totals,
                             profile=services.alerting.site_profile, now_ms=services.now_ms())
    except Exception as exc:  # the pages compute it when first asked; a server must start without it
        log.error("starting the shift exposure folds failed: %s", safe_traceback(exc))


@contextlib.asynccontextmanager
async def lifespan(services: Services, *, migrate: bool) -> AsyncIterator[None]:
    """Migrate (when asked), load the settings saved through the API, run every background task, and stop them
    all when the app stops."""
    settings = services.settings
    try:
        if migrate:
            await run_in_threadpool(upgrade, services.engine)
        await run_in_threadpool(_load_stored_settings, services)
        await run_in_threadpool(_start_shift_totals, services)
        unreachable = services.notifier.config.unreachable()
        if unreachable:
            log.warning("%s", unreachable)
        jobs: list[tuple[str, Coroutine[Any, Any, None]]] = [
            ("notifications", services.notifier.run(services.sessions, interval_s=settings.notify_interval_s)),
        ]
        if services.health.scheduler_s > 0:
            jobs.append(("health-scheduler", run_scheduler(services.sessions, services.health, services.clock)))
        jobs.append(("watchdogs", watchdogs.run(services.sessions, services.alerting, clock=services.now_ms,
                                                config=watchdogs.config_of(settings))))
        if services.mqtt is not None:
            jobs.append(("mqtt-ingest", services.mqtt.run()))
        if services.influx is not None:
            jobs.append(("influx-forwarder", services.influx.run()))
        tasks = [asyncio.create_task(job, name=name) for name, job in jobs]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        services.shift_totals.close()
        services.engine.dispose()

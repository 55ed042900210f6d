"""The typed `Services` every route reaches through one dependency (`ServicesDep`), and the request's database
session (`SessionDep`). Built once by the composition root (server/composition.py) and held by the app; nothing
here creates anything.

This module sits below every feature: it names their service types for the type checker only, so any router may
depend on it without importing another feature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.counters import Counters
from server.events import Events, IncidentRecords
from server.settings import HealthConfig, Settings

if TYPE_CHECKING:
    from server.accounts.throttle import LoginThrottle
    from server.alerts.service import Alerting
    from server.emergency.service import Emergency
    from server.ingest.mqtt import MqttIngest
    from server.notify.service import Notifier
    from server.plugin_manager import ServerPlugins
    from server.series.influx import InfluxForwarder
    from server.web.shift_totals import ShiftTotals


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Callable[[], int]
    engine: Engine
    sessions: sessionmaker[Session]
    counters: Counters
    events: Events
    alerting: Alerting
    notifier: Notifier
    emergency: Emergency
    incidents: IncidentRecords
    health: HealthConfig
    plugins: ServerPlugins
    mqtt: MqttIngest | None
    influx: InfluxForwarder | None
    login_throttle: LoginThrottle
    shift_totals: ShiftTotals

    def now_ms(self) -> int:
        return int(self.clock())


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_session(services: ServicesDep) -> Iterator[Session]:
    with services.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

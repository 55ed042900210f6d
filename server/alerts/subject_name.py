"""What an alert is about, as one name: its sensor's, or `agent:<name>` for a watchdog alert about an agent
(the one home of that rule for every query that lists alerts)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, literal, select

from server.alerts.models import Alert
from server.series.models import Agent, Sensor

#: the subject's name, as a column
SUBJECT = func.coalesce(Sensor.name, literal("agent:") + Agent.name).label("subject")


def select_alerts(*columns: Any) -> Select[Any]:
    """SELECT Alert, its subject's name (and `columns`), joined so that sensor and agent alerts both appear."""
    return (
        select(Alert, SUBJECT, *columns)
        .outerjoin(Sensor, Sensor.id == Alert.sensor_id)
        .outerjoin(Agent, Agent.id == Alert.agent_id)
    )

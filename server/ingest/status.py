"""Agent status reports (MQTT status topic or HTTP), validated and stored."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from server.ingest.ledger import agent_status_row


class StatusReport(BaseModel):
    """What an agent says about itself. `state` offline is also what the broker publishes as its Last Will."""

    model_config = ConfigDict(extra="ignore")

    state: str = Field(pattern="^(online|offline)$")
    version: str = Field(default="", max_length=32)
    ts: int | None = None
    outbox_batches: int | None = Field(default=None, ge=0)
    outbox_readings: int | None = Field(default=None, ge=0)
    oldest_unsent_ms: int | None = None
    outbox_full: bool = False
    disk_full: bool = False
    dropped_readings: int | None = Field(default=None, ge=0)


def store_status(session: Session, agent_id: int, report: StatusReport, *, now_ms: int) -> None:
    row = agent_status_row(session, agent_id)
    row.state = report.state
    row.reported_ms = now_ms
    row.version = report.version
    if report.state == "online" or report.outbox_batches is not None:
        row.outbox_batches = report.outbox_batches
        row.outbox_readings = report.outbox_readings
        row.oldest_unsent_ms = report.oldest_unsent_ms
        row.outbox_full = report.outbox_full
        row.disk_full = report.disk_full
        row.dropped_readings = report.dropped_readings

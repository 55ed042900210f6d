"""Agent status reports (MQTT status topic or HTTP), validated and stored, with the calibration register entries
of the agent's sensors (server.calibration.service: applied only where the agent's config changed)."""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from exposure.wire import one_line
from server.calibration.due import Register
from server.calibration.schemas import CalibrationReport
from server.calibration.service import apply_agent_report
from server.ingest.ledger import agent_status_row
from server.series.models import AgentSource, AgentStatus

log = logging.getLogger(__name__)


class SourceStatusIn(BaseModel):
    """One source as the agent reports it (exposure.wire.SourceStatus); a longer error is cut to one line."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1, max_length=128)
    state: str = Field(pattern="^(ok|failing|unavailable)$")
    frames_ok: int = Field(default=0, ge=0)
    frames_bad: int = Field(default=0, ge=0)
    last_error: str | None = None
    last_error_ts: int | None = None

    @field_validator("last_error")
    @classmethod
    def _one_line(cls, v: str | None) -> str | None:
        return one_line(v)


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
    calibration: dict[str, Any] | None = Field(
        default=None, description="sensor name -> its calibration from the agent's config (CalibrationReport); "
                                  "an entry that does not validate is left out, never the report")
    sources: list[SourceStatusIn] | None = Field(
        default=None, max_length=1000,
        description="each source's state (ok, failing, unavailable), frame counters and last error "
                    "(exposure.wire.SourceStatus); left out by older agents: the server keeps what it had")


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
    if report.sources is not None:
        _store_sources(session, agent_id, report.sources, now_ms=now_ms)
    if report.calibration:
        apply_agent_report(session, agent_id, _calibration_entries(agent_id, report.calibration), now_ms=now_ms)


def _calibration_entries(agent_id: int, raw: dict[str, Any]) -> dict[str, Register]:
    out = {}
    for name, entry in raw.items():
        try:
            out[name] = CalibrationReport.model_validate(entry).register()
        except ValidationError as exc:
            log.warning("agent %d: calibration of sensor %r left out: %s", agent_id, name[:128],
                        "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()))
    return out


def _store_sources(session: Session, agent_id: int, sources: list[SourceStatusIn], *, now_ms: int) -> None:
    """The agent's per-source rows become the report's (the latest report wins; a source it no longer runs goes).
    The agent's status row is locked first, so two replicas storing its reports at once take turns."""
    session.execute(select(AgentStatus.agent_id).where(AgentStatus.agent_id == agent_id).with_for_update())
    session.execute(delete(AgentSource).where(AgentSource.agent_id == agent_id))
    latest = {s.name: s for s in sources}  # one row per name, the last one listed
    session.add_all(AgentSource(agent_id=agent_id, source=s.name, state=s.state, frames_ok=s.frames_ok,
                                frames_bad=s.frames_bad, last_error=s.last_error, last_error_ms=s.last_error_ts,
                                reported_ms=now_ms) for s in latest.values())

"""Pydantic models at the HTTP edge of the organisation: zones, posts, hazards, zone sensors, shift patterns,
assignments, personal sensors and roster import reports."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from server.org.models import Assignment, Post, Zone


class ZoneCreate(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)
    site: str = Field(default="", max_length=64)


class HazardIn(BaseModel):
    substance: str = Field(description="catalogue substance id: noise, co, silica_crystalline ...")
    quantity: str | None = Field(default=None, description="reading quantity; default: the substance's")
    post: str | None = Field(default=None, description="post code; none: the whole zone")
    variant: str | None = Field(default=None, max_length=32,
                                description="the catalogue variant whose limit applies: a silica dust's free-SiO2 "
                                            "class (sio2-10-50pct, sio2-50-80pct, sio2-above-80pct)")
    ppe: str | None = Field(default=None, max_length=500,
                            description="the protective equipment the site requires against it; none: the "
                                        "general guidance for the substance is shown")


class PostIn(BaseModel):
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=128)


class ZoneSensorIn(BaseModel):
    sensor: str = Field(description="sensor name as the agent reports it")
    site: str | None = None
    start_ms: int = 0
    end_ms: int | None = None


class HazardOut(BaseModel):
    substance: str
    quantity: str
    post: str | None
    variant: str | None = None
    ppe: str | None = None


class ZoneSensorOut(BaseModel):
    sensor_id: int
    sensor: str
    start_ms: int
    end_ms: int | None


class ZoneOut(BaseModel):
    id: int
    code: str
    name: str
    site: str
    posts: list[PostIn]
    hazards: list[HazardOut]
    sensors: list[ZoneSensorOut]


class ShiftPatternIn(BaseModel):
    code: str = Field(min_length=1, max_length=32)
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM local time")
    hours: float = Field(gt=0, le=24)


class AssignmentIn(BaseModel):
    worker_id: int
    zone: str
    post: str | None = None
    start_ms: int
    end_ms: int
    shift_start_ms: int | None = Field(default=None, description="default: the assignment's start")
    shift_end_ms: int | None = Field(default=None, description="default: the assignment's end")


class AssignmentOut(BaseModel):
    id: int
    worker_id: int
    zone: str
    post: str | None
    start_ms: int
    end_ms: int
    shift_start_ms: int
    shift_end_ms: int
    source: str


class PersonalSensorIn(BaseModel):
    worker_id: int
    sensor: str
    site: str | None = None
    start_ms: int
    end_ms: int


class PersonalSensorOut(BaseModel):
    id: int
    worker_id: int
    sensor: str
    start_ms: int
    end_ms: int


class EndIn(BaseModel):
    end_ms: int = Field(description="ms; after the start and not later than the end already stored")


class RosterError(BaseModel):
    line: int
    field: str
    reason: str


class RosterReport(BaseModel):
    rows: int
    imported: int
    errors: list[RosterError]



def assignment_out(session: Session, a: Assignment) -> AssignmentOut:
    zone = session.get(Zone, a.zone_id)
    post = session.get(Post, a.post_id) if a.post_id else None
    return AssignmentOut(id=a.id, worker_id=a.worker_id, zone=zone.code if zone else str(a.zone_id),
                         post=post.code if post else None, start_ms=a.start_ms, end_ms=a.end_ms,
                         shift_start_ms=a.shift_start_ms, shift_end_ms=a.shift_end_ms, source=a.source)

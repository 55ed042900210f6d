"""The calibration register: one row per sensor (migration 0009)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base


class Calibration(Base):
    """A sensor's calibration and bump test: when last done, the interval, when due (last + interval, or a date
    given directly in the API), the certificate (a number or URL). `source` says who last set it (`agent`: its
    config, through a status report; `api`: a person). `agent_values` is the JSON the agent last sent: its values
    are applied only when they differ from it, so an edit in the API stands until the site changes its config."""

    __tablename__ = "calibrations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"), unique=True)
    last_calibrated: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    calibration_interval_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    calibration_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    last_bump_test: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    bump_test_interval_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bump_test_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    certificate: Mapped[str | None] = mapped_column(Text, nullable=True)
    source: Mapped[str] = mapped_column(String(8))
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)
    updated_by: Mapped[str] = mapped_column(String(128))
    agent_values: Mapped[str | None] = mapped_column(Text, nullable=True)

"""Health-file settings from HAZMON_HEALTH_* environment variables, validated once, and read from
`app.state.health_config` (set it before start-up to override, as tests do)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from exposure.profiles import PROFILE_NAMES


class HealthConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAZMON_HEALTH_", extra="ignore", frozen=True)

    profile: str = Field(default="cn", description="jurisdiction profile for limits (exposure.profiles)")
    timezone: str = Field(default="UTC", description="local time of rosters, shift patterns and months")
    retention_years: float = Field(default=30.0, gt=0, description="exposure records kept at least this long")
    medical_retention_years: float = Field(default=30.0, gt=0,
                                           description="exams kept this long after the worker leaves")
    settle_s: int = Field(default=300, ge=0, description="wait after a shift ends before computing it")
    scheduler_s: float = Field(default=60.0, ge=0, description="scheduler period; 0 disables the background task")
    max_gap_s: float = Field(default=60.0, gt=0, description="hold of an instantaneous sample (exposure.segments)")
    surveillance_rules: Path | None = Field(default=None, description="TOML rules; default: built-in rules")
    evidence_margin_s: int = Field(default=600, ge=0, description="series shown around a linked alert")

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, v: str) -> str:
        if v not in PROFILE_NAMES:
            raise ValueError(f"unknown profile {v!r} (known: {', '.join(PROFILE_NAMES)})")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        ZoneInfo(v)
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


YEAR_MS = 365.25 * 24 * 3600 * 1000

"""Every server setting, from HAZMON_* environment variables, validated once (config/server.example.env lists
them all; a test keeps the two in step). Nothing else in the server reads the environment."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from platformdirs import user_data_path
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from exposure.profiles import PROFILE_NAMES

YEAR_MS = 365.25 * 24 * 3600 * 1000


def default_data_dir() -> Path:
    return user_data_path("hazmon", appauthor=False)


@dataclass(frozen=True)
class HealthConfig:
    """The health-file and organisation part of the settings, as those features read it (`Settings.health`;
    the defaults and their validation are the settings' own)."""

    profile: str
    timezone: str
    retention_years: float
    medical_retention_years: float
    settle_s: int
    scheduler_s: float
    max_gap_s: float
    surveillance_rules: Path | None
    evidence_margin_s: int
    #: what a worker sees of their own exams (the site's policy): "full", "outcome" or "schedule"
    worker_exam_results: str = "full"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAZMON_", extra="ignore", frozen=True, populate_by_name=True)

    # -- storage and links
    data_dir: Path = Field(default_factory=default_data_dir, description="where the SQLite database lives")
    database_url: str = Field(default="", description="SQLAlchemy URL; default: SQLite in data_dir")
    mqtt_url: str = Field(default="", pattern=r"^(mqtts?://[^/]+)?$", description="MQTT ingest; off when empty")
    mqtt_shared_group: str = Field(default="", description="MQTT 5 shared subscription group for replicas")
    mqtt_client_id: str = Field(default="", description="the MQTT client id (default: generated per process)")
    mqtt_ca_file: Path | None = Field(default=None, description="CA bundle for mqtts:// (default: the system's)")
    influx_url: str = Field(default="", description="InfluxDB v1 HTTP API for raw series; off when empty")
    retry_max_s: float = Field(default=30.0, gt=0, le=3600,
                               description="longest wait between two reconnects to the broker or InfluxDB")
    # -- the site
    profile: str = Field(default="cn", validation_alias=AliasChoices("HAZMON_PROFILE", "HAZMON_HEALTH_PROFILE",
                                                                     "profile"),
                         description="the site's jurisdiction profile for limits (exposure.profiles)")
    language: Literal["en", "zh-Hans"] = Field(
        default="en", description="the site's language: pages, messages and PDFs of users who chose none")
    rules_file: Path | None = Field(default=None, description="alert rules (TOML); default: built-in rules")
    notify_file: Path | None = Field(default=None, description="notification policies, contact groups (TOML)")
    emergency_dir: Path | None = Field(default=None, description="emergency plans (*.toml), e.g. config/emergency")
    secret_key: str = Field(default="", description="signs muster links; default: generated in data_dir")
    # -- serving
    host: str = "127.0.0.1"
    port: int = Field(default=8600, ge=1, le=65535)
    session_hours: float = Field(default=12.0, gt=0)
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto", description="the Secure flag of cookies: auto (when the request came over TLS), always, never")
    login_max_failures: int = Field(default=5, ge=1, le=1000,
                                    description="failed logins for one user name before it waits (429)")
    login_max_failures_per_address: int = Field(default=20, ge=1, le=100_000,
                                                description="failed logins from one client address before it waits")
    login_window_s: float = Field(default=900.0, gt=0, le=86_400,
                                  description="how long a failed login counts against the limits above")
    max_future_s: int = Field(default=300, ge=0, description="readings further in the future are refused")
    late_after_s: int = Field(default=900, ge=1, description="readings older than this on arrival are flagged late")
    notify_interval_s: float = Field(default=1.0, gt=0, description="period of the notification delivery worker")
    log_level: str = "info"
    metrics_token: str = Field(default="", description="bearer token for GET /metrics (Prometheus); "
                                                       "empty: /metrics is public")
    # -- watchdogs (HAZMON_WATCHDOG_*, server/alerts/watchdogs.py)
    watchdog_silent_factor: float = Field(default=3.0, ge=1, le=100,
                                          description="a sensor is silent after this many of its usual intervals")
    watchdog_silent_min_s: float = Field(default=60.0, ge=1, description="... and never before this many seconds")
    watchdog_agent_offline_s: float = Field(default=60.0, ge=1, description="an agent unheard this long is offline")
    watchdog_interval_s: float = Field(default=5.0, gt=0, le=300, description="how often the watchdogs check")
    watchdog_severity: Literal["info", "warning", "critical"] = Field(default="warning",
                                                                       description="severity of watchdog alerts")
    watchdog_calibration_severity: Literal["info", "warning", "critical"] = Field(
        default="warning", description="severity of watchdog.calibration_due (a calibration or bump test overdue)")
    # -- health files (HAZMON_HEALTH_*)
    health_timezone: str = Field(default="UTC", description="local time of rosters, shift patterns and months")
    health_retention_years: float = Field(default=30.0, gt=0, description="exposure records kept at least this long")
    health_medical_retention_years: float = Field(default=30.0, gt=0,
                                                  description="exams kept this long after the worker leaves")
    health_settle_s: int = Field(default=300, ge=0, description="wait after a shift ends before computing it")
    health_scheduler_s: float = Field(default=60.0, ge=0,
                                      description="exposure-record scheduler period; 0 disables it")
    health_max_gap_s: float = Field(default=60.0, gt=0, description="hold of an instantaneous sample")
    health_surveillance_rules: Path | None = Field(default=None, description="TOML rules; default: built-in rules")
    health_evidence_margin_s: int = Field(default=600, ge=0, description="series shown around a linked alert")
    health_worker_exam_results: Literal["full", "outcome", "schedule"] = Field(
        default="full", description="what a worker sees of their own exams: full (outcome, findings, examiner, "
        "attachments), outcome (the outcome only: findings and attachments are given by the occupational "
        "physician) or schedule (types and dates, no result)")

    @field_validator("profile")
    @classmethod
    def _known_profile(cls, v: str) -> str:
        if v not in PROFILE_NAMES:
            raise ValueError(f"unknown profile {v!r} (known: {', '.join(PROFILE_NAMES)})")
        return v

    @field_validator("health_timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'hazmon.db'}")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def health(self) -> HealthConfig:
        return HealthConfig(
            profile=self.profile, timezone=self.health_timezone, retention_years=self.health_retention_years,
            medical_retention_years=self.health_medical_retention_years, settle_s=self.health_settle_s,
            scheduler_s=self.health_scheduler_s, max_gap_s=self.health_max_gap_s,
            surveillance_rules=self.health_surveillance_rules, evidence_margin_s=self.health_evidence_margin_s,
            worker_exam_results=self.health_worker_exam_results,
        )

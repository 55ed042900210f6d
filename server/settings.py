"""Server settings from HAZMON_* environment variables, validated once."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return user_data_path("hazmon", appauthor=False)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HAZMON_", extra="ignore", frozen=True)

    data_dir: Path = Field(default_factory=default_data_dir, description="where the SQLite database lives")
    database_url: str = Field(default="", description="SQLAlchemy URL; default: SQLite in data_dir")
    rules_file: Path | None = Field(default=None, description="alert rules (TOML); default: built-in rules")
    notify_file: Path | None = Field(default=None, description="notification policies, contact groups (TOML)")
    emergency_dir: Path | None = Field(default=None, description="emergency plans (*.toml), e.g. config/emergency")
    secret_key: str = Field(default="", description="signs muster links; default: generated in data_dir")
    mqtt_url: str = Field(default="", pattern=r"^(mqtts?://[^/]+)?$", description="MQTT ingest; off when empty")
    mqtt_shared_group: str = Field(default="", description="MQTT 5 shared subscription group for replicas")
    mqtt_client_id: str = ""
    mqtt_ca_file: Path | None = Field(default=None, description="CA bundle for mqtts:// (default: the system's)")
    influx_url: str = Field(default="", description="InfluxDB v1 HTTP API for raw series; off when empty")
    host: str = "127.0.0.1"
    port: int = Field(default=8600, ge=1, le=65535)
    session_hours: float = Field(default=12.0, gt=0)
    max_future_s: int = Field(default=300, ge=0, description="readings further in the future are refused")
    late_after_s: int = Field(default=900, ge=1, description="readings older than this on arrival are flagged late")
    log_level: str = "info"

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'hazmon.db'}")
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

"""The agent's TOML config: validated once at start-up, errors naming the key and its line.

Source tables are validated against the config model their plugin declares, so a typo in a sensor's options
stops the agent before anything connects.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.alarms.rules import AlarmRule
from agent.sources import Source, SourceConfig

SCHEMA_VERSION = 1
_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class ConfigError(Exception):
    """A config file that cannot be used. `problems` are lines like `file.toml:12: sources[0].port: ...`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HttpUplinkConfig(_Strict):
    type: Literal["http"] = "http"
    url: str = Field(pattern=r"^https?://", description="the server's base URL, e.g. http://127.0.0.1:8600")
    token: str = Field(min_length=8, description="the agent's bearer token (hazmon server agent-token create)")
    timeout_s: float = Field(default=10.0, gt=0)
    status_interval_s: float = Field(default=15.0, gt=0, description="seconds between status reports")
    retry_max_s: float = Field(default=30.0, gt=0, le=3600, description="longest wait between two delivery attempts")
    lost_alarm_after_s: float = Field(
        default=120.0, gt=0, description="drive agent.uplink-lost when nothing is acknowledged for this long"
    )


class MqttUplinkConfig(_Strict):
    """MQTT 5 to a broker the server also reads (DESIGN §4.3). `url`: mqtt://host:1883 or mqtts://host:8883."""

    type: Literal["mqtt"] = "mqtt"
    url: str = Field(pattern=r"^mqtts?://[^/]+$", description="mqtt://host[:port] or mqtts://host[:port] (TLS)")
    token: str = Field(min_length=8, description="the agent's bearer token (hazmon server agent-token create), sent "
                       "with every message; the broker's own username/password are separate")
    username: str | None = None
    password: str | None = None
    tls_ca_file: Path | None = Field(default=None, description="CA bundle for mqtts:// (default: the system's)")
    tls_insecure: bool = Field(default=False, description="skip the broker's host name check (testing only)")
    client_id: str | None = Field(default=None, description="default: hazmon-<site>-<agent>")
    window: int = Field(default=8, ge=1, le=100, description="batches in flight without an ack")
    ack_timeout_s: float = Field(default=30.0, gt=0, description="resend a batch not acknowledged in this time")
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=0, description="how long the broker keeps our session")
    status_interval_s: float = Field(default=15.0, gt=0)
    retry_max_s: float = Field(default=30.0, gt=0, le=3600, description="longest wait between two reconnects")
    lost_alarm_after_s: float = Field(
        default=120.0, gt=0, description="drive agent.uplink-lost when nothing is acknowledged for this long"
    )


UplinkConfig = Annotated[HttpUplinkConfig | MqttUplinkConfig, Field(discriminator="type")]


class OutboxConfig(_Strict):
    max_batch_readings: int = Field(default=500, ge=1, le=10_000)
    flush_interval_s: float = Field(default=1.0, gt=0, le=60)
    max_readings: int = Field(
        default=5_000_000, ge=1000, description="when the outbox holds this many readings, reading stops"
    )
    memory_readings: int = Field(
        default=20_000, ge=100, le=10_000_000,
        description="readings held in memory while the outbox cannot write (disk full); beyond, dropped as gaps",
    )


class MetricsConfig(_Strict):
    """The Prometheus endpoint (agent/metrics.py): off unless `listen` is set."""

    listen: str | None = Field(default=None, description='host:port of GET /metrics, e.g. "127.0.0.1:9108"')

    @field_validator("listen")
    @classmethod
    def _host_port(cls, v: str | None) -> str | None:
        if v is not None:
            split_host_port(v)
        return v

    @property
    def address(self) -> tuple[str, int] | None:
        """(host, port) to listen on, or None when the endpoint is off."""
        return None if self.listen is None else split_host_port(self.listen)


def split_host_port(text: str) -> tuple[str, int]:
    """`host:port` (an IPv6 host in brackets: `[::1]:9108`) -> (host, port); ValueError naming the problem."""
    host, sep, port = text.rpartition(":")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if not sep or not host or (":" in host and not text.startswith("[")):
        raise ValueError(f"{text!r} is not host:port (e.g. \"127.0.0.1:9108\", \"[::1]:9108\")")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    return host, int(port)


class PluginsConfig(_Strict):
    disabled: list[str] = Field(default_factory=list)


class AgentConfig(_Strict):
    schema_version: Literal[1]
    site: str = Field(pattern=_ID)
    agent: str = Field(pattern=_ID, description="this agent's id, unique on the site")
    data_dir: Path | None = Field(default=None, description="where the outbox lives; default next to the config")
    uplink: UplinkConfig
    outbox: OutboxConfig = OutboxConfig()
    plugins: PluginsConfig = PluginsConfig()
    metrics: MetricsConfig = MetricsConfig()
    sources: list[SourceConfig] = Field(default_factory=list)
    alarms: list[AlarmRule] = Field(default_factory=list, description="local alarms (agent/alarms)")

    def outbox_path(self, config_path: Path | None) -> Path:
        base = self.data_dir or (config_path.parent if config_path else Path.cwd())
        return base / f"outbox-{self.agent}.db"


def parse_config(text: str, *, source_types: dict[str, type[Source]], filename: str = "<config>") -> AgentConfig:
    """Parse and validate TOML text. Raises ConfigError listing every problem with its line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{filename}: not valid TOML: {exc}"]) from None
    locate = KeyLocator(text)
    problems: list[str] = []

    raw_sources = data.pop("sources", [])
    if not isinstance(raw_sources, list):
        raise ConfigError([f"{filename}:{locate(('sources',))}: sources: must be [[sources]] tables"])
    sources: list[SourceConfig] = []
    names: set[str] = set()
    for i, table in enumerate(raw_sources):
        kind = table.get("type")
        cls = source_types.get(kind) if isinstance(kind, str) else None
        if cls is None:
            known = ", ".join(sorted(source_types)) or "none loaded"
            where = locate(("sources", i, "type"))
            problems.append(f"{filename}:{where}: sources[{i}].type: unknown source type {kind!r} (known: {known})")
            continue
        try:
            cfg = cls.config_model.model_validate(table)
        except ValidationError as exc:
            problems.extend(_describe(exc, ("sources", i), filename, locate))
            continue
        if cfg.name in names:
            problems.append(
                f"{filename}:{locate(('sources', i, 'name'))}: sources[{i}].name: {cfg.name!r} is used twice"
            )
        names.add(cfg.name)
        sources.append(cfg)
    try:
        config = AgentConfig.model_validate({**data, "sources": []})
    except ValidationError as exc:
        problems[:0] = _describe(exc, (), filename, locate)
        config = None
    if problems or config is None:
        raise ConfigError(problems)
    return config.model_copy(update={"sources": sources})


def load_config(path: Path, *, source_types: dict[str, type[Source]]) -> AgentConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    return parse_config(text, source_types=source_types, filename=str(path))


def _describe(exc: ValidationError, prefix: tuple[Any, ...], filename: str, locate: KeyLocator) -> list[str]:
    out = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        if loc[:1] == ("uplink",) and loc[1:2] in (("http",), ("mqtt",)):
            loc = (loc[0], *loc[2:])  # drop the discriminated union's tag
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc).lstrip(".")
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (a typo?)"
        out.append(f"{filename}:{locate(loc)}: {dotted}: {msg}")
    return out


class KeyLocator:
    """Finds the line that defines a key path like ('sources', 2, 'port') in TOML text.

    tomllib keeps no positions, so this walks the lines: table headers, array-of-table headers and `key =`
    lines. For a missing key it points at the table's header (or line 1).
    """

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def __call__(self, loc: tuple[Any, ...]) -> int:
        table: list[Any] = []
        counts: dict[tuple[str, ...], int] = {}
        best = 1
        path = [p for p in loc]
        for n, line in enumerate(self.lines, start=1):
            s = line.split("#", 1)[0].strip() if line.lstrip().startswith("[") else line.strip()
            if s.startswith("[["):
                name = tuple(p.strip() for p in s.strip("[] ").split("."))
                counts[name] = counts.get(name, -1) + 1
                table = [*name, counts[name]]
            elif s.startswith("["):
                table = [p.strip() for p in s.strip("[] ").split(".")]
            elif "=" in s and not s.startswith("#"):
                key = s.split("=", 1)[0].strip().strip('"')
                full = [*table, *key.split(".")]
                if full == path[: len(full)] and len(full) == len(path):
                    return n
                continue
            else:
                continue
            if len(table) > len(path) and table[: len(path)] == path:
                return n  # the key is an array of tables: its first header
            if table == path[: len(table)]:
                best = n
        return best

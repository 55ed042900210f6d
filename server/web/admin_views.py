"""What the administration pages show: the accounts, every token (people's API tokens and browser sessions,
agents' tokens: never a token, only its id, owner, label and times), and the settings overview with every
standing warning. The warnings are the ones the rest of the server already computes, gathered, not re-derived:
server.health.standing (no notification channel, failed exposure records), the calibration register's overdue
checks and the agents' online state (server.web.facilities_views), and the open watchdog alerts
(server.web.views.inbox)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from exposure.profiles import get_profile
from server.accounts.credentials import token_hash
from server.accounts.models import ApiToken
from server.accounts.service import list_api_tokens
from server.health.standing import standing_warnings
from server.ingest.agents import list_agent_tokens
from server.notify.redaction import mask, mask_text
from server.series.models import Agent
from server.services import Services
from server.web import facilities_views as fv
from server.web import views
from server.web.admin_times import local_text


@dataclass(frozen=True)
class TokenLine:
    kind: str  # api | session | agent
    id: int
    owner: str  # user name, or site/agent
    label: str
    created_ms: int
    expires_ms: int | None
    last_used_ms: int | None  # known for agents only (the agent's last request), else None

    @property
    def key(self) -> str:
        return f"{'agent' if self.kind == 'agent' else 'user'}-{self.id}"


def tokens(session: Session) -> tuple[TokenLine, ...]:
    """Agents' tokens first (by site and agent), then people's (by user); revoked agent tokens are not listed."""
    heard = {(a.site, a.name): a.last_seen_ms for a in session.execute(select(Agent)).scalars()}
    out = [TokenLine("agent", t.id, f"{t.site}/{t.agent}", t.label, t.created_ms, t.expires_ms,
                     heard.get((t.site, t.agent)) or None) for t in list_agent_tokens(session)]
    out += [TokenLine(t.kind, t.id, t.user, t.label, t.created_ms, t.expires_ms, None)
            for t in list_api_tokens(session)]
    return tuple(out)


def own_token_id(session: Session, token: str | None) -> int | None:
    """The id of the person's token this request carries (the page's own browser session), to mark it."""
    if not token:
        return None
    return session.execute(select(ApiToken.id).where(ApiToken.token_hash == token_hash(token))).scalar_one_or_none()


@dataclass(frozen=True)
class Setting:
    name: str
    value: str
    state: str = "ok"  # ok | off | warn


@dataclass(frozen=True)
class Overview:
    settings: tuple[Setting, ...]
    groups: tuple[dict[str, Any], ...]  # the contact groups, secrets masked
    warnings: tuple[str, ...]


#: hazmon runs no backup of its own (there is no backup setting): the operator must, and the page says so
NO_BACKUP = ("no backup configured: hazmon does not back up its database; back up the SQLite file in the data "
             "directory or the PostgreSQL database (pg_dump) on a schedule, off this machine")


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _database(url: str) -> Setting:
    kind = url.split(":", 1)[0].split("+", 1)[0]
    kind = {"sqlite": "SQLite", "postgresql": "PostgreSQL", "postgres": "PostgreSQL"}.get(kind, kind)
    return Setting("database", f"{kind}: {mask_text(url)}")


def overview(services: Services, session: Session, *, now_ms: int) -> Overview:
    s = services.settings
    mqtt, influx = services.mqtt, services.influx
    config = services.notifier.config
    rows = [
        _database(s.database_url),
        Setting("MQTT ingest", "off" if not s.mqtt_url else
                f"{mask_text(s.mqtt_url)} ({'connected' if mqtt and mqtt.connected.is_set() else 'disconnected'})"
                + (f", shared group {s.mqtt_shared_group}" if s.mqtt_shared_group else ""),
                "off" if not s.mqtt_url else ("ok" if mqtt and mqtt.connected.is_set() else "warn")),
        Setting("InfluxDB", "off (raw series in the SQL database)" if not s.influx_url else
                f"{mask_text(s.influx_url)} ({'ok' if influx and influx.healthy else 'failing'})",
                "off" if not s.influx_url else ("ok" if influx and influx.healthy else "warn")),
        Setting("notification policies", f"{_count(len(config.policies), 'policy', 'policies')}, "
                f"{_count(len(config.groups), 'contact group', 'contact groups')}"
                + (f" ({s.notify_file})" if s.notify_file else ""), "ok" if config.policies else "warn"),
        Setting("backup", "not configured", "warn"),
        Setting("site profile (jurisdiction)", f"{get_profile(s.profile).title} ({s.profile})"),
        Setting("time zone", s.health_timezone),
        Setting("alert rules", str(s.rules_file) if s.rules_file else "built-in rules"),
        Setting("emergency plans", str(s.emergency_dir) if s.emergency_dir else "none"),
        Setting("data directory", str(s.data_dir)),
        Setting("metrics (/metrics)", "token required" if s.metrics_token else "public", "ok"),
    ]
    return Overview(tuple(rows), tuple(mask(g.model_dump()) for g in config.groups),
                    tuple(warnings(services, session, now_ms=now_ms)))


def warnings(services: Services, session: Session, *, now_ms: int) -> list[str]:
    out = standing_warnings(services, session)
    out.append(NO_BACKUP)
    late = [d for d in fv.register_due(fv.sensors(session, now_ms=now_ms)) if d.check.state == "overdue"]
    for d in late:
        out.append(f"calibration register: {d.sensor} at {d.site}: {d.check.reason}")
    tz = services.settings.health.tz
    for a in fv.agents(session, now_ms=now_ms):
        if a.state == "offline":
            out.append(f"agent {a.site}/{a.name} offline, last heard "
                       + (local_text(a.last_heard_ms, tz) if a.last_heard_ms else "never"))
    for w in views.inbox(session, views.InboxFilter(state="active", kind="watchdog")):
        out.append(f"watchdog alert {w.id} ({w.state}): {w.message or w.rule} · {w.subject}")
    return out

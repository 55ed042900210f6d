"""Notification settings: contact groups, routing policies with escalation stages, quiet hours.

From a TOML file (HAZMON_NOTIFY_FILE; see config/notify.example.toml) or through the API. Validated once; a bad
file stops start-up with the key that is wrong.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from exposure.wire import SEVERITIES, Severity, severity_rank

#: severities that quiet hours never hold back
NEVER_HELD = frozenset({"critical", "emergency"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuietHours(_Strict):
    start: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")


class Member(_Strict):
    """One recipient: an apprise URL (mailto://, slack://, msteams://, tgram://, ntfy://, sms gateways ...),
    a plugin channel's URL, `log://`, or a signed JSON webhook (`webhook` + `secret`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
    url: str | None = None
    webhook: str | None = Field(default=None, pattern=r"^https?://")
    secret: str | None = Field(default=None, min_length=16, description="HMAC-SHA256 key of the webhook")

    @model_validator(mode="after")
    def _one(self) -> Member:
        if (self.url is None) == (self.webhook is None):
            raise ValueError("a member has exactly one of `url` or `webhook`")
        if self.webhook is not None and self.secret is None:
            raise ValueError("a webhook needs a `secret` (at least 16 characters) to sign its requests")
        return self

    @property
    def target(self) -> str:
        return self.webhook if self.webhook is not None else self.url  # type: ignore[return-value]


class Group(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    members: list[Member] = Field(min_length=1)
    quiet_hours: QuietHours | None = None


class Stage(_Strict):
    group: str
    after_min: float = Field(default=0.0, ge=0, description="unacknowledged this long: notify this stage")


class Policy(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    sites: list[str] = Field(default_factory=lambda: ["*"])
    zones: list[str] = Field(default_factory=lambda: ["*"], description="globs; an alert without a zone is ''")
    hazards: list[str] = Field(default_factory=lambda: ["*"], description="quantities (h2s, o2, laeq ...) or rules")
    min_severity: Severity = "warning"
    stages: list[Stage] = Field(min_length=1)
    repeat_every_min: float = Field(default=5.0, ge=0, description="repeat to stage 1 until acknowledged; 0: off")
    max_repeats: int = Field(default=50, ge=0)
    notify_resolved: bool = True
    incidents: bool = Field(default=False, description="also route emergency incidents of matching zones")

    def matches(self, *, site: str, zone: str | None, quantity: str, rule_id: str, severity: str) -> bool:
        if severity_rank(severity) < severity_rank(self.min_severity):
            return False
        return (
            any(fnmatch.fnmatchcase(site, p) for p in self.sites)
            and any(fnmatch.fnmatchcase(zone or "", p) for p in self.zones)
            and any(fnmatch.fnmatchcase(quantity, p) or fnmatch.fnmatchcase(rule_id, p) for p in self.hazards)
        )


class NotifyConfig(_Strict):
    timezone: str = "UTC"
    public_url: str = Field(default="http://127.0.0.1:8600", pattern=r"^https?://")
    max_attempts: int = Field(default=6, ge=1, le=50)
    retry_initial_s: float = Field(default=30.0, gt=0)
    retry_max_s: float = Field(default=900.0, gt=0)
    groups: list[Group] = Field(default_factory=list)
    policies: list[Policy] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @model_validator(mode="after")
    def _refs(self) -> NotifyConfig:
        names = [g.name for g in self.groups]
        if len(names) != len(set(names)):
            raise ValueError("group names must be unique")
        ids = [p.id for p in self.policies]
        if len(ids) != len(set(ids)):
            raise ValueError("policy ids must be unique")
        for p in self.policies:
            for s in p.stages:
                if s.group not in names:
                    raise ValueError(f"policy {p.id}: unknown group {s.group!r}")
        return self

    def group(self, name: str) -> Group | None:
        return next((g for g in self.groups if g.name == name), None)

    def unreachable(self) -> str | None:
        """Why an alert would reach nobody, or None. Every policy has a stage and every group a member (checked
        on load), so nobody is reached exactly when there is no policy. The standing warning of `hazmon server
        run`, GET /api/v1/status and the pages."""
        if not self.policies:
            return ("no notification channel: alerts reach nobody (set HAZMON_NOTIFY_FILE or PUT "
                    "/api/v1/notify/config, then `hazmon server notify test`)")
        return None

    def member(self, group: str, name: str) -> Member | None:
        g = self.group(group)
        return next((m for m in g.members if m.name == name), None) if g else None

    def release_ms(self, group: Group, severity: str, due_ms: int) -> int:
        """When a message due at `due_ms` may go out: at once, or at the end of the group's quiet hours.
        Critical and emergency messages are never held."""
        if group.quiet_hours is None or severity in NEVER_HELD:
            return due_ms
        tz = ZoneInfo(self.timezone)
        local = dt.datetime.fromtimestamp(due_ms / 1000, tz)
        start = dt.time.fromisoformat(group.quiet_hours.start)
        end = dt.time.fromisoformat(group.quiet_hours.end)
        t = local.time()
        inside = (start <= t < end) if start <= end else (t >= start or t < end)
        if not inside:
            return due_ms
        release = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
        if release <= local:
            release += dt.timedelta(days=1)
        return int(release.timestamp() * 1000)


class NotifyConfigError(Exception):
    pass


def parse_notify_config(text: str, *, name: str = "<notify>") -> NotifyConfig:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise NotifyConfigError(f"{name}: not valid TOML: {exc}") from None
    try:
        return NotifyConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise NotifyConfigError(f"{name}: {where}: {first['msg']}".replace(": : ", ": ")) from None


__all__ = ["SEVERITIES", "Group", "Member", "NotifyConfig", "NotifyConfigError", "Policy", "parse_notify_config"]

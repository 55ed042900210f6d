"""Emergency plans from config/emergency/*.toml (HAZMON_EMERGENCY_DIR), validated at start-up.

A plan names its triggers (an alert of a rule or quantity reaching a severity, in matching zones), the ordered
checklist with owners, the contact group of the emergency team, and a roster fallback (people and the zones they
work in, with an optional apprise URL for their "I am safe" link) for sites without server.health assignments.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from exposure.wire import Severity, severity_rank


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Strict):
    rule: str | None = None
    quantity: str | None = None
    min_severity: Severity = "critical"
    zones: list[str] = Field(default_factory=lambda: ["*"])
    sites: list[str] = Field(default_factory=lambda: ["*"])

    @model_validator(mode="after")
    def _what(self) -> Trigger:
        if (self.rule is None) == (self.quantity is None):
            raise ValueError("a trigger names exactly one of `rule` or `quantity`")
        return self

    def matches(self, *, rule_id: str, quantity: str, severity: str, site: str, zone: str | None) -> bool:
        if self.rule is not None and self.rule != rule_id:
            return False
        if self.quantity is not None and self.quantity != quantity:
            return False
        return (severity_rank(severity) >= severity_rank(self.min_severity)
                and any(fnmatch.fnmatchcase(site, p) for p in self.sites)
                and any(fnmatch.fnmatchcase(zone or "", p) for p in self.zones))


class Step(_Strict):
    title: str = Field(min_length=1)
    owner: str = Field(min_length=1)


class Person(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
    name: str
    zones: list[str] = Field(default_factory=lambda: ["*"])
    contact: str | None = Field(default=None, description="an apprise URL for the muster message")


class Plan(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    title: str
    team_group: str | None = Field(default=None, description="contact group of the emergency team")
    triggers: list[Trigger] = Field(default_factory=list)
    steps: list[Step] = Field(min_length=1)
    roster: list[Person] = Field(default_factory=list)
    file: str = ""

    def triggered_by(self, **kw: object) -> Trigger | None:
        return next((t for t in self.triggers if t.matches(**kw)), None)  # type: ignore[arg-type]


class PlanError(Exception):
    pass


def parse_plan(text: str, *, name: str) -> Plan:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(f"{name}: not valid TOML: {exc}") from None
    try:
        return Plan.model_validate({**raw, "file": name})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanError(f"{name}: {where}: {first['msg']}") from None


def load_plans(directory: Path | None) -> dict[str, Plan]:
    """Every *.toml in the directory, by plan id. A bad file or a duplicate id stops start-up."""
    if directory is None:
        return {}
    if not directory.is_dir():
        raise PlanError(f"{directory}: not a directory")
    plans: dict[str, Plan] = {}
    for path in sorted(directory.glob("*.toml")):
        plan = parse_plan(path.read_text(encoding="utf-8"), name=str(path))
        if plan.id in plans:
            raise PlanError(f"{path}: plan id {plan.id!r} is also used in {plans[plan.id].file}")
        plans[plan.id] = plan
    return plans

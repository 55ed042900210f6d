"""Alert rules from TOML: the file's schema (pydantic, extra keys refused), each rule's thresholds resolved to
numbers in its unit (catalogue limits through the jurisdiction profile), and the one-line errors that name the
file, the rule and the key."""

from __future__ import annotations

import tomllib
from importlib.resources import files
from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from exposure import QUANTITIES
from exposure.profiles import applicable_limit
from exposure.quantities import unit_for
from exposure.wire import Severity, severity_rank
from server.alerts.rules import Rule, RuleLevel, RulesError, RuleSet

Metric = Literal["value", "stel", "twa", "projected_twa", "dose", "projected_dose"]
LimitKind = Literal["twa", "stel", "ceiling", "peak", "idlh", "action_level"]
Profile = Literal["cn", "us-osha", "us-niosh", "eu", "strictest"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Level(_Strict):
    """One step of a rule. Exactly one of `above`, `below` or `limit`."""

    severity: Severity
    above: float | None = None
    below: float | None = None
    limit: LimitKind | None = Field(default=None, description="a catalogue limit kind, resolved in the profile")
    percent: float = Field(default=100.0, gt=0, le=10_000, description="of `limit`")
    clear_at: float | None = Field(default=None, description="hysteresis: the level clears on the safe side of this")
    label: str = ""

    @model_validator(mode="after")
    def _one(self) -> Level:
        if sum(x is not None for x in (self.above, self.below, self.limit)) != 1:
            raise ValueError("a level has exactly one of `above`, `below` or `limit`")
        return self


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    quantity: str
    metric: Metric = "value"
    unit: str
    profile: Profile | None = Field(default=None, description="catalogue limits (default strictest) and the molar "
                                   "volume of unit conversions (default: the site's profile)")
    sensors: str = Field(default="*", description="a glob over sensor names")
    zone: str | None = Field(default=None, description="only the sensors of this zone (server.health)")
    workers: str | None = Field(default=None, min_length=1, max_length=64,
                                description="a glob over employee numbers: the personal sensors they wear")
    site: str | None = None
    levels: list[Level] = Field(default_factory=list)
    # one-level shorthand
    above: float | None = None
    below: float | None = None
    severity: Severity | None = None
    min_duration_s: float = Field(default=0.0, ge=0)
    clear_hold_s: float = Field(default=0.0, ge=0)
    shift_h: float = Field(default=8.0, gt=0, le=24)
    criterion: str = Field(default="osha-hc", description="noise dose criterion (dose metrics)")
    message: str = ""
    source: str = Field(default="", description="where the thresholds come from")
    enabled: bool = True


_METRIC_UNITS = {"dose": "%", "projected_dose": "%"}


def build_rule(spec: RuleSpec) -> Rule:
    """Validate a rule and resolve its catalogue limits. Raises ValueError naming the problem."""
    q = QUANTITIES.get(spec.quantity)
    if q is None:
        raise ValueError(f"unknown quantity {spec.quantity!r}")
    if spec.metric in _METRIC_UNITS:
        if spec.quantity != "laeq":
            raise ValueError(f"metric {spec.metric} needs quantity laeq")
        unit = "%"
    else:
        unit = unit_for(spec.quantity, spec.unit)
    if spec.zone is not None and spec.workers is not None:
        raise ValueError("a rule names either a `zone` or `workers`, not both")
    if spec.metric != "value" and spec.quantity not in ("laeq",) and unit not in ("ppm", "mg/m3"):
        raise ValueError(f"metric {spec.metric} applies to gas or dust concentrations and noise")
    specs = list(spec.levels)
    if spec.above is not None or spec.below is not None:
        if specs:
            raise ValueError("give either `levels` or the one-level shorthand (`above`/`below`), not both")
        specs = [Level(severity=spec.severity or "warning", above=spec.above, below=spec.below)]
    if not specs:
        raise ValueError("a rule needs at least one level")
    directions = {"below" if lv.below is not None else "above" for lv in specs}
    if len(directions) != 1:
        raise ValueError("all levels of a rule go the same way (all `above`/`limit`, or all `below`)")
    direction = directions.pop()
    levels = []
    for lv in specs:
        source = ""
        if lv.limit is not None:
            value, source = _catalogue_threshold(spec, lv, unit)
        else:
            value = lv.above if lv.above is not None else lv.below  # type: ignore[assignment]
        clear = lv.clear_at if lv.clear_at is not None else value
        if (direction == "above" and clear > value) or (direction == "below" and clear < value):
            raise ValueError(f"level {lv.severity}: clear_at {clear:g} is on the wrong side of {value:g}")
        levels.append(RuleLevel(lv.severity, float(value), float(clear), lv.label, source))
    levels.sort(key=lambda lv: severity_rank(lv.severity))
    for a, b in pairwise(levels):
        if a.severity == b.severity:
            raise ValueError(f"two levels with severity {a.severity}")
        worse = b.threshold > a.threshold if direction == "above" else b.threshold < a.threshold
        if not worse:
            raise ValueError(f"level {b.severity} must be beyond level {a.severity}")
    return Rule(
        id=spec.id, quantity=spec.quantity, metric=spec.metric, unit=unit, direction=direction,
        levels=tuple(levels), sensors=spec.sensors, zone=spec.zone, workers=spec.workers, profile=spec.profile,
        site=spec.site,
        min_duration_s=spec.min_duration_s, clear_hold_s=spec.clear_hold_s, shift_h=spec.shift_h,
        criterion=spec.criterion, message=spec.message, source=spec.source, enabled=spec.enabled,
    )


def _catalogue_threshold(spec: RuleSpec, lv: Level, unit: str) -> tuple[float, str]:


    substance = spec.quantity
    profile = spec.profile or "strictest"
    try:
        applied = applicable_limit(substance, profile, lv.limit)  # type: ignore[arg-type]
    except Exception as exc:
        raise ValueError(f"no limits for {substance!r}: {exc}") from None
    if applied is None and lv.limit == "action_level":
        twa = applicable_limit(substance, profile, "twa")
        if twa is not None:  # the usual action level: half the 8-h TWA limit
            return twa.value_in(unit) * lv.percent / 100.0 * 0.5, f"50 % of {twa.label} ({profile})"
    if applied is None:
        raise ValueError(f"profile {profile} has no {lv.limit} limit for {substance}")
    value = applied.value_in(unit) * lv.percent / 100.0
    label = f"{lv.percent:g} % of {lv.limit} {applied.label} ({profile})"
    if applied.warning:
        label += f"; {applied.warning}"
    return value, label


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[RuleSpec] = []


def parse_rules(text: str, *, name: str = "<rules>") -> RuleSet:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{name}: not valid TOML: {exc}") from None
    try:
        parsed = _RulesFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RulesError(f"{name}: {where}: {first['msg']}") from None
    rules = []
    for i, spec in enumerate(parsed.rules):
        try:
            rules.append(build_rule(spec))
        except ValueError as exc:
            raise RulesError(f"{name}: rules.{i} ({spec.id}): {exc}") from None
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise RulesError(f"{name}: rule ids must be unique")
    return RuleSet(tuple(rules))


def rules_text(path: Path | None) -> str:
    """The rules file's text, or the built-in rules' without one."""
    return path.read_text(encoding="utf-8") if path else (files("server.alerts") / "default_rules.toml").read_text()


def load_rules(path: Path | None) -> RuleSet:
    return parse_rules(rules_text(path), name=str(path) if path else "default_rules.toml")

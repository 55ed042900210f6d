"""Alert rules: graded levels on one metric of one quantity, with a minimum duration and hysteresis.

A rule watches one metric of a quantity on its subjects: sensors by glob, the sensors of a zone, or workers (by a
glob over employee numbers: the readings of the personal sensors each worker wears, one episode per worker):

- ``value``: the instantaneous reading (alarm levels: GB/T 50493-2019 1st/2nd level, % LEL, O2 low/high, ceiling
  or MAC, IDLH, noise peak);
- ``stel``: the 15-min TWA ending at the newest reading (exposure's STEL convention);
- ``twa`` / ``projected_twa``: the 8-h TWA so far and its projection over the shift (exposure.chemical);
- ``dose`` / ``projected_dose``: noise dose so far and projected (exposure.noise, LAeq readings).

Each level has a severity and a threshold: a number (``above`` / ``below``) or a fraction of a catalogue limit
(``limit = "twa"``, ``percent = 50`` is the action level) looked up through the jurisdiction profile. Levels rise
within one episode (action level -> limit -> emergency). A level holds once its condition held for
``min_duration_s`` of reading time; the episode clears once every level's clear condition (``clear_at``, the
hysteresis; default the threshold) held for ``clear_hold_s`` of reading time.

Readings in another concentration unit than the rule's are converted (exposure.units, with the molar volume of
the rule's `profile`, else the site's profile); a reading that cannot be converted is counted and skipped.

Rules come from a TOML file (HAZMON_RULES_FILE) or the built-in defaults in server/alerts/default_rules.toml.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from itertools import pairwise
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from exposure import QUANTITIES
from exposure.profiles import applicable_limit
from exposure.quantities import unit_for
from exposure.wire import Severity, severity_rank

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


@dataclass(frozen=True)
class RuleLevel:
    severity: str
    threshold: float
    clear_at: float
    label: str
    limit_source: str = ""


@dataclass(frozen=True)
class Rule:
    """A validated rule with its thresholds resolved to numbers in the rule's unit."""

    id: str
    quantity: str
    metric: str
    unit: str
    direction: Literal["above", "below"]
    levels: tuple[RuleLevel, ...]  # ascending severity
    sensors: str = "*"
    zone: str | None = None
    workers: str | None = None
    profile: str | None = None
    site: str | None = None
    min_duration_s: float = 0.0
    clear_hold_s: float = 0.0
    shift_h: float = 8.0
    criterion: str = "osha-hc"
    message: str = ""
    source: str = ""
    enabled: bool = True

    @property
    def above(self) -> bool:
        return self.direction == "above"

    @property
    def threshold(self) -> float:
        return self.levels[0].threshold

    @property
    def severity(self) -> str:
        return self.levels[-1].severity

    def breached(self, value: float, level: RuleLevel) -> bool:
        return value >= level.threshold if self.above else value <= level.threshold

    def cleared(self, value: float, level: RuleLevel) -> bool:
        return value < level.clear_at if self.above else value > level.clear_at

    def applies_to(self, sensor: str, quantity: str, *, site: str | None = None,
                   zone_sensors: frozenset[str] | None = None) -> bool:
        """Whether the rule watches this sensor's quantity (the unit is converted by the evaluator; a worker rule
        also needs the sensor to be worn by a matching worker, see `matches_worker`)."""
        if not self.enabled or quantity != self.quantity:
            return False
        if self.site is not None and site is not None and site != self.site:
            return False
        if self.zone is not None and (zone_sensors is None or sensor not in zone_sensors):
            return False
        return fnmatch.fnmatchcase(sensor, self.sensors)

    def matches_worker(self, employee_no: str) -> bool:
        return self.workers is not None and fnmatch.fnmatchcase(employee_no, self.workers)

    def to_spec(self) -> dict[str, object]:
        return {
            "id": self.id, "quantity": self.quantity, "metric": self.metric, "unit": self.unit,
            "direction": self.direction, "sensors": self.sensors, "zone": self.zone, "workers": self.workers,
            "profile": self.profile, "site": self.site,
            "min_duration_s": self.min_duration_s, "clear_hold_s": self.clear_hold_s, "message": self.message,
            "source": self.source, "enabled": self.enabled,
            "levels": [{"severity": lv.severity, "threshold": lv.threshold, "clear_at": lv.clear_at,
                        "label": lv.label, "limit_source": lv.limit_source} for lv in self.levels],
        }


class RulesError(Exception):
    pass


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


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    def by_quantity(self) -> dict[str, list[Rule]]:
        out: dict[str, list[Rule]] = {}
        for rule in self.rules:
            if rule.enabled:
                out.setdefault(rule.quantity, []).append(rule)
        return out

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


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


def load_rules(path: Path | None) -> RuleSet:
    text = path.read_text(encoding="utf-8") if path else (files("server.alerts") / "default_rules.toml").read_text()
    return parse_rules(text, name=str(path) if path else "default_rules.toml")

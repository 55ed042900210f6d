"""Instantaneous threshold rules: one alert per (rule, sensor) episode, opened when a value crosses the
threshold and resolved when a value is back on the safe side.

Rules come from a TOML file (HAZMON_RULES_FILE) or the built-in defaults in server/default_rules.toml.
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from exposure import QUANTITIES, canonical_unit

Severity = Literal["info", "warning", "critical", "emergency"]


class ThresholdRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    quantity: str
    above: float | None = None
    below: float | None = None
    unit: str
    severity: Severity = "warning"
    sensors: str = Field(default="*", description="a glob over sensor names")
    message: str = ""
    source: str = Field(default="", description="where the threshold comes from")

    @model_validator(mode="after")
    def _check(self) -> ThresholdRule:
        if (self.above is None) == (self.below is None):
            raise ValueError("a rule has exactly one of `above` or `below`")
        q = QUANTITIES.get(self.quantity)
        if q is None:
            raise ValueError(f"unknown quantity {self.quantity!r}")
        unit = canonical_unit(self.unit)
        if unit is None or unit not in q.accepted_units:
            raise ValueError(f"unit {self.unit!r} does not fit {self.quantity}")
        object.__setattr__(self, "unit", unit)
        return self

    @property
    def threshold(self) -> float:
        return self.above if self.above is not None else self.below  # type: ignore[return-value]

    def breached(self, value: float) -> bool:
        return value >= self.above if self.above is not None else value <= self.below  # type: ignore[operator]

    def applies_to(self, sensor: str, quantity: str, unit: str) -> bool:
        return quantity == self.quantity and unit == self.unit and fnmatch.fnmatchcase(sensor, self.sensors)


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[ThresholdRule] = []


class RulesError(Exception):
    pass


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[ThresholdRule, ...]

    def by_quantity(self) -> dict[str, list[ThresholdRule]]:
        out: dict[str, list[ThresholdRule]] = {}
        for rule in self.rules:
            out.setdefault(rule.quantity, []).append(rule)
        return out


def load_rules(path: Path | None) -> RuleSet:
    text = path.read_text(encoding="utf-8") if path else (files("server") / "default_rules.toml").read_text()
    name = str(path) if path else "default_rules.toml"
    try:
        parsed = _RulesFile.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{name}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise RulesError(f"{name}: {where}: {first['msg']}") from None
    ids = [r.id for r in parsed.rules]
    if len(ids) != len(set(ids)):
        raise RulesError(f"{name}: rule ids must be unique")
    return RuleSet(tuple(parsed.rules))

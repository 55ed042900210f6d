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

Rules come from a TOML file (HAZMON_RULES_FILE) or the built-in defaults in server/alerts/default_rules.toml,
parsed and resolved by server/alerts/rule_file.py; this module holds the validated rules.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Literal


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
        if self.zone is not None and (zone_sensors is None or sensor not in zone_sensors):
            return False
        return self.watches(sensor, quantity, site=site)

    def watches(self, sensor: str, quantity: str, *, site: str | None = None) -> bool:
        """`applies_to` without the zone: what does not change while the rules stay the same (`RuleSet.for_sensor`
        keeps it)."""
        if not self.enabled or quantity != self.quantity:
            return False
        if self.site is not None and site is not None and site != self.site:
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


#: sensors whose candidate rules a RuleSet remembers (beyond this, they are matched again for each batch)
INDEX_MAX = 100_000


@dataclass(frozen=True)
class RuleSet:
    """The rules in force. `for_sensor` is the rule index: the rules that may apply to a sensor's quantity, matched
    (glob, site, quantity) once per sensor instead of every rule being tried on every reading."""

    rules: tuple[Rule, ...]
    _index: dict[tuple[str, str, str | None], tuple[Rule, ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def for_sensor(self, sensor: str, quantity: str, site: str | None) -> tuple[Rule, ...]:
        """The enabled rules that watch this sensor's quantity on this site (zone rules too: whether the sensor
        is in the zone at a reading's time is for the caller to check, `Rule.applies_to`)."""
        key = (sensor, quantity, site)
        hit = self._index.get(key)
        if hit is None:
            hit = tuple(r for r in self.rules if r.watches(sensor, quantity, site=site))
            if len(self._index) < INDEX_MAX:
                self._index[key] = hit
        return hit

    def by_quantity(self) -> dict[str, list[Rule]]:
        out: dict[str, list[Rule]] = {}
        for rule in self.rules:
            if rule.enabled:
                out.setdefault(rule.quantity, []).append(rule)
        return out

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

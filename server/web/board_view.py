"""What a zone's notice board and its hazard card show: the live values against their levels (the dashboard's
tile for the zone, server/web/views.py), the declared hazards with names in English and Chinese, health effects
and protective equipment (hazard_notes.toml), the emergency plans that apply to the zone with their steps and the
team to alert, and the latest days' monitoring results of the zone's series (server/health/zone_report.py).
Zone-level data only: no person, no worker count, no contact address."""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

from sqlalchemy import select
from sqlalchemy.orm import Session

from exposure.catalogue import load_catalogue
from server.alerts.rules import RuleSet
from server.emergency.plans import Plan
from server.health.zone_report import WindowResult, zone_windows
from server.org.models import Hazard, ShiftPattern, Zone
from server.settings import HealthConfig
from server.web import views


@dataclass(frozen=True)
class HazardNote:
    substance: str
    name_en: str
    name_zh: str
    effects_en: str
    effects_zh: str
    ppe_en: str
    ppe_zh: str
    #: what the site requires (the hazard's declared PPE, server.org.models.Hazard.ppe); None: the general
    #: guidance above applies
    declared_ppe: str | None = None


@dataclass(frozen=True)
class PlanNote:
    title: str
    steps: tuple[tuple[str, str], ...]  # (what, who: a role, never a person)
    team_group: str | None


@dataclass(frozen=True)
class Results:
    shifts: tuple[WindowResult, ...]
    days: tuple[WindowResult, ...]


@dataclass(frozen=True)
class Board:
    code: str
    name: str
    site: str
    state: str
    values: tuple[views.LiveValue, ...]
    silent: tuple[str, ...]
    hazards: tuple[HazardNote, ...]
    plans: tuple[PlanNote, ...]
    source: str


@cache
def _notes() -> dict[str, object]:
    return tomllib.loads((files("server.web") / "hazard_notes.toml").read_text(encoding="utf-8"))


def _known(substance: str) -> bool:
    return substance in load_catalogue().substances


def note_for(substance: str, declared_ppe: str | None = None) -> HazardNote:
    raw = _notes().get(substance)
    row: dict[str, str] = raw if isinstance(raw, dict) else {}
    if _known(substance):
        sub = load_catalogue().substance(substance)
        en, zh = sub.name_en, sub.name_zh
    else:
        en, zh = substance, substance
    sds_en, sds_zh = "See the safety data sheet.", "见化学品安全技术说明书。"
    return HazardNote(substance, en, zh, row.get("effects_en", sds_en), row.get("effects_zh", sds_zh),
                      row.get("ppe_en", sds_en), row.get("ppe_zh", sds_zh), declared_ppe or None)


def guidance(hazards: Sequence[views.HazardLine]) -> dict[str, HazardNote]:
    """substance -> its general note (health effects, default PPE) for the hazards of a zone page."""
    return {h.substance: note_for(h.substance) for h in hazards}


def declared_ppe(session: Session, zone_id: int) -> dict[str, str]:
    """substance -> the PPE the site declared for it in the zone (several posts' requirements joined by "; ")."""
    out: dict[str, list[str]] = {}
    for substance, ppe in session.execute(select(Hazard.substance, Hazard.ppe).where(
            Hazard.zone_id == zone_id, Hazard.ppe.is_not(None)).order_by(Hazard.id)).all():
        if ppe and ppe not in out.setdefault(substance, []):
            out[substance].append(ppe)
    return {k: "; ".join(v) for k, v in out.items() if v}


def plans_for(plans: dict[str, Plan], rules: RuleSet, zone: str, quantities: frozenset[str]
              ) -> tuple[PlanNote, ...]:
    """The plans one of whose triggers covers the zone and a quantity (its own, or its rule's) that the zone
    measures or declares; a plan without triggers covers every zone."""
    quantity_of = {r.id: r.quantity for r in rules.rules}
    out = []
    for plan in plans.values():
        if plan.triggers and not any(any(fnmatch.fnmatchcase(zone, p) for p in t.zones)
                                     and (t.quantity or quantity_of.get(t.rule or "")) in quantities
                                     for t in plan.triggers):
            continue
        out.append(PlanNote(plan.title, tuple((s.title, s.owner) for s in plan.steps), plan.team_group))
    return tuple(out)


def board(session: Session, rules: RuleSet, plans: dict[str, Plan], zone: Zone, *, now_ms: int) -> Board:
    [tile] = views.dashboard(session, rules, now_ms=now_ms, only=zone.code).tiles
    ppe = declared_ppe(session, zone.id)
    quantities = frozenset(v.quantity for v in tile.values) | {load_catalogue().substance(s).quantity
                                                                for s in tile.hazards if _known(s)}
    return Board(code=zone.code, name=zone.name, site=zone.site, state=tile.state, values=tile.values,
                 silent=tile.silent, hazards=tuple(note_for(s, ppe.get(s)) for s in tile.hazards),
                 plans=plans_for(plans, rules, zone.code, quantities), source=str(_notes().get("source", "")))


def _local_ms(day: dt.date, hhmm: str, tz: dt.tzinfo) -> int:
    h, m = (int(x) for x in hhmm.split(":"))
    return int(dt.datetime.combine(day, dt.time(h, m), tzinfo=tz).timestamp() * 1000)


def windows(patterns: Sequence[tuple[str, str, float]], config: HealthConfig, *, now_ms: int, days: int = 2
            ) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """The latest days (today so far first) and the shifts of each pattern that started in them, newest first."""
    today = dt.datetime.fromtimestamp(now_ms / 1000, config.tz).date()
    day_list = [(str(today - dt.timedelta(days=k)), _local_ms(today - dt.timedelta(days=k), "00:00", config.tz),
                 min(now_ms, _local_ms(today - dt.timedelta(days=k - 1), "00:00", config.tz))) for k in range(days)]
    shifts = []
    for code, start, hours in patterns:
        for k in range(days):
            d = today - dt.timedelta(days=k)
            a = _local_ms(d, start, config.tz)
            if a < now_ms:
                shifts.append((f"{d} {code} {start}", a, min(now_ms, a + round(hours * 3_600_000))))
    shifts.sort(key=lambda w: -w[1])
    return day_list, shifts[:4]


def latest_results(session: Session, zone: Zone, config: HealthConfig, *, now_ms: int) -> Results:
    """The zone series' results per shift and per day (zone-level: the highest of its sensors, never a person)."""
    patterns = [(p.code, p.start, p.hours) for p in session.execute(select(ShiftPattern)
                                                                     .order_by(ShiftPattern.code)).scalars()]
    day_list, shifts = windows(patterns, config, now_ms=now_ms)
    rows = zone_windows(session, zone, [*shifts, *day_list], config)
    keep = [r for r in rows if r.row.coverage > 0]
    shift_labels = {w[0] for w in shifts}
    return Results(shifts=tuple(r for r in keep if r.label in shift_labels),
                   days=tuple(r for r in keep if r.label not in shift_labels))

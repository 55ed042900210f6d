"""Jurisdiction profiles (cn, us-osha, us-niosh, eu, strictest), the limits that apply to a substance in a
profile, and validated site overrides (TOML, read with the standard library's tomllib).

A profile lookup never hides provenance: each AppliedLimit names its document, clause and mark, and one that
rests only on an unverified value says so in `warning`.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final

from exposure.catalogue import (
    LIMIT_FIELDS,
    Catalogue,
    CatalogueError,
    Fraction,
    Kind,
    Limit,
    Source,
    load_catalogue,
    parse_limit_row,
)
from exposure.errors import InvalidInput
from exposure.results import LimitUsed
from exposure.units import MOLAR_VOLUME_20C, MOLAR_VOLUME_25C, convert_concentration

#: China: GBZ 2.1 gives mg/m3 and the standard state was not found in a primary text (research notes §2.4, §7.2).
#: We take 20 degC / 101.3 kPa, the condition GBZ 159-2004 uses for the standard sampling volume (from memory,
#: UNVERIFIED); a site may set another value in its override file ([profile] molar_volume = 22.41, say).
CN_MOLAR_VOLUME: Final = MOLAR_VOLUME_20C


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    title: str
    sources: tuple[str, ...]
    molar_volume: float
    molar_volume_note: str
    strictest: bool = False
    overrides: tuple[Limit, ...] = ()
    override_file: str | None = None


_PROFILES: Mapping[str, Profile] = MappingProxyType(
    {
        "cn": Profile(
            "cn", "China: GBZ 2.1-2019 (chemicals, dusts), GBZ 2.2-2007 (noise)", ("gbz-2.1-2019", "gbz-2.2-2007"),
            CN_MOLAR_VOLUME, "24.06 L/mol (20 degC, 101.3 kPa; GBZ 159 sampling convention, UNVERIFIED; configurable)",
        ),
        "us-osha": Profile("us-osha", "US OSHA: 29 CFR 1910 (Z tables, 1910.95)", ("osha",), MOLAR_VOLUME_25C,
                           "24.45 L/mol (25 degC, 1 atm)"),
        "us-niosh": Profile("us-niosh", "US NIOSH: REL and IDLH", ("niosh",), MOLAR_VOLUME_25C,
                            "24.45 L/mol (25 degC, 1 atm)"),
        "eu": Profile("eu", "EU: IOELV/BOELV directives, 2003/10/EC", ("eu",), MOLAR_VOLUME_20C,
                      "24.06 L/mol (20 degC, 101.3 kPa)"),
        "strictest": Profile(
            "strictest", "The lowest applicable value of all sources, naming its source",
            ("gbz-2.1-2019", "gbz-2.2-2007", "osha", "niosh", "eu"), MOLAR_VOLUME_25C,
            "24.45 L/mol for display; each limit is converted with its own source's molar volume", strictest=True,
        ),
    }
)
PROFILE_NAMES: Final = tuple(_PROFILES)


def get_profile(name: str, *, overrides: SiteOverrides | None = None) -> Profile:
    """A profile by name, with a site's overrides (molar volume, limit rows) applied when given."""
    try:
        profile = _PROFILES[name]
    except KeyError:
        raise InvalidInput("profile", f"unknown profile {name!r} (known: {', '.join(PROFILE_NAMES)})") from None
    if overrides is None:
        return profile
    if overrides.molar_volume is not None:
        profile = replace(profile, molar_volume=overrides.molar_volume,
                          molar_volume_note=f"{overrides.molar_volume} L/mol (site override, {overrides.file})")
    return replace(profile, overrides=overrides.limits, override_file=overrides.file)


@dataclass(frozen=True, slots=True)
class AppliedLimit:
    """A limit row as it applies in a profile, with what is needed to express it in another unit."""

    limit: Limit
    profile: str
    mw: float | None
    molar_volume: float | None
    warning: str | None = None

    @property
    def value(self) -> float:
        return self.limit.value

    @property
    def unit(self) -> str:
        return self.limit.unit

    @property
    def label(self) -> str:
        return f"{self.limit.citation} [{self.limit.mark}]"

    def value_in(self, unit: str) -> float:
        if unit == self.limit.unit:
            return self.limit.value
        return convert_concentration(self.limit.value, self.limit.unit, unit, mw=self.mw,
                                     molar_volume=self.molar_volume)

    def used(self, unit: str | None = None) -> LimitUsed:
        """The LimitUsed record a result carries, in `unit` (default: as published)."""
        unit = unit or self.limit.unit
        note = self.warning or ""
        if unit != self.limit.unit:
            conv = f"published as {self.limit.value:g} {self.limit.unit}, converted at {self.molar_volume} L/mol"
            note = f"{note}; {conv}" if note else conv
        return LimitUsed(
            value=self.value_in(unit), unit=unit, kind=self.limit.kind,
            source=f"{self.limit.document} ({self.limit.edition})", clause=self.limit.clause,
            mark=self.limit.mark, substance=self.limit.substance, note=note,
        )


_MARK_RANK: Final = MappingProxyType({"site": 0, "verified": 1, "secondary": 2, "unverified": 3})


def _warning(limit: Limit) -> str | None:
    if limit.mark == "unverified":
        return (f"UNVERIFIED value: {limit.citation} was not read in a primary or secondary source; "
                "check it before relying on it")
    return None


def applicable_limits(
    substance_id: str,
    profile: Profile | str,
    *,
    kind: Kind | None = None,
    fraction: Fraction | None = None,
    variant: str | None = None,
    on: dt.date | None = None,
    catalogue: Catalogue | None = None,
) -> tuple[AppliedLimit, ...]:
    """The limits of a substance in a profile, one per (kind, fraction, averaging period).

    Rows with a `variant` (plateau, SiO2 band, exempt sectors, impulses per day) apply only when asked for.
    `on` selects the rows in force on a date; without it, the current rows (no end date). Site overrides replace
    the profile's rows with the same kind and fraction. In `strictest`, the lowest value wins after converting
    each to the substance's unit with its own source's molar volume.
    """
    cat = catalogue or load_catalogue()
    prof = get_profile(profile) if isinstance(profile, str) else profile
    sub = cat.substance(substance_id)

    def keep(lim: Limit) -> bool:
        return (
            (kind is None or lim.kind == kind)
            and (fraction is None or lim.fraction == fraction)
            and lim.variant == variant
            and lim.valid_on(on)
        )

    def molar_volume(lim: Limit) -> float:
        """A limit is converted with its own source's molar volume; GBZ rows (none published) with the cn
        profile's (a site may override it), site rows with the profile's."""
        src: Source | None = cat.sources.get(lim.source)
        if src is not None and src.molar_volume is not None:
            return src.molar_volume
        if src is not None and prof.strictest:
            return CN_MOLAR_VOLUME
        return prof.molar_volume

    rows = [lim for lim in cat.limits_of(substance_id, prof.sources) if keep(lim)]
    over = [lim for lim in prof.overrides if lim.substance == substance_id and keep(lim)]
    overridden = {(lim.kind, lim.fraction) for lim in over}
    rows = [lim for lim in rows if (lim.kind, lim.fraction) not in overridden] + over

    groups: dict[tuple[object, ...], list[Limit]] = {}
    for lim in rows:
        key: tuple[object, ...] = (lim.kind, lim.fraction, lim.averaging_min if lim.kind == "twa" else None)
        if not prof.strictest:
            key = (*key, lim.source, lim.averaging_min)
        groups.setdefault(key, []).append(lim)

    out: list[AppliedLimit] = []
    for lims in groups.values():
        def in_sub_unit(lim: Limit) -> float:
            if lim.unit == sub.unit or lim.unit not in ("ppm", "mg/m3"):
                return lim.value
            return convert_concentration(lim.value, lim.unit, sub.unit, mw=sub.mw, molar_volume=molar_volume(lim))

        best = min(lims, key=lambda lim: (in_sub_unit(lim), _MARK_RANK[lim.mark]))
        warning = _warning(best)
        if prof.strictest and len(lims) > 1:
            others = ", ".join(f"{x.value:g} {x.unit} ({x.document})" for x in lims if x is not best)
            note = f"strictest of {len(lims)}: also {others}"
            warning = f"{warning}; {note}" if warning else note
        out.append(AppliedLimit(best, prof.name, sub.mw, molar_volume(best), warning))
    order = ("twa", "stel", "ceiling", "peak", "action_level", "lower_action_level", "idlh")
    out.sort(key=lambda a: (order.index(a.limit.kind), a.limit.fraction or "", a.limit.averaging_min or 0))
    return tuple(out)


def applicable_limit(
    substance_id: str,
    profile: Profile | str,
    kind: Kind,
    *,
    fraction: Fraction | None = None,
    variant: str | None = None,
    on: dt.date | None = None,
    catalogue: Catalogue | None = None,
) -> AppliedLimit | None:
    """The one limit of `kind` for the substance in the profile (the first by fraction), or None."""
    found = applicable_limits(substance_id, profile, kind=kind, fraction=fraction, variant=variant, on=on,
                              catalogue=catalogue)
    if not found:
        return None
    if fraction is None and len({a.limit.fraction for a in found}) > 1:
        # dusts: GBZ 2.1-2019 measures the respirable fraction first where both exist [R16b]
        resp = [a for a in found if a.limit.fraction == "respirable"]
        return resp[0] if resp else found[0]
    return found[0]


# -- site overrides ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteOverrides:
    file: str
    limits: tuple[Limit, ...]
    molar_volume: float | None = None
    base_profile: str | None = None


_OVERRIDE_ROW = (LIMIT_FIELDS - {"mark", "edition", "clause", "refs"}) | {"reason"}
_OVERRIDE_TOP = frozenset({"profile", "limit"})
_PROFILE_KEYS = frozenset({"base", "molar_volume"})


def parse_overrides(
    text: str, *, file: str = "limits.override.toml", catalogue: Catalogue | None = None
) -> SiteOverrides:
    """Validate a site override file. Each [[limit]] row needs substance, kind, value, unit and reason."""
    cat = catalogue or load_catalogue()
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(file, "", f"not valid TOML: {exc}") from None
    unknown = sorted(set(raw) - _OVERRIDE_TOP)
    if unknown:
        raise CatalogueError(file, unknown[0], "unknown table (expected [profile] and [[limit]])")
    prof = raw.get("profile", {})
    if not isinstance(prof, Mapping):
        raise CatalogueError(file, "profile", "must be a table")
    bad = sorted(set(prof) - _PROFILE_KEYS)
    if bad:
        raise CatalogueError(file, f"profile.{bad[0]}", "unknown field")
    base = prof.get("base")
    if base is not None and base not in _PROFILES:
        raise CatalogueError(file, "profile.base", f"unknown profile {base!r}")
    mv = prof.get("molar_volume")
    if mv is not None and (isinstance(mv, bool) or not isinstance(mv, int | float) or not 20.0 <= mv <= 30.0
                           or not math.isfinite(mv)):
        raise CatalogueError(file, "profile.molar_volume", f"must be a number of L/mol between 20 and 30, got {mv!r}")
    rows = raw.get("limit", [])
    if not isinstance(rows, list):
        raise CatalogueError(file, "limit", "must be an array of tables ([[limit]])")
    site = Source(id="site", jurisdiction="site", document=f"site override {file}", edition="site",
                  title="site override", molar_volume=None, file=file)
    limits: list[Limit] = []
    for i, row in enumerate(rows):
        where = f"limit[{i}]"
        if not isinstance(row, Mapping):
            raise CatalogueError(file, where, "must be a table")
        reason = row.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise CatalogueError(file, f"{where}.reason", "missing field: say why the site departs from the catalogue")
        body = {k: v for k, v in row.items() if k != "reason"}
        body.update(mark="site", clause=reason)
        limits.append(parse_limit_row(body, file=file, where=where, substances=cat.substances, source=site,
                                      allowed=_OVERRIDE_ROW | {"mark", "clause"}))
    return SiteOverrides(file, tuple(limits), None if mv is None else float(mv), base)


def profile_sources(profile: Profile, catalogue: Catalogue | None = None) -> Sequence[Source]:
    cat = catalogue or load_catalogue()
    return [cat.sources[s] for s in profile.sources if s in cat.sources]

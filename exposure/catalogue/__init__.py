"""Substances and limit catalogues, shipped as JSON data in this package, with a hand-written validating loader.

Files: ``substances.json`` (ids, names in English and Chinese, CAS, molecular weight) and one limits file per
source (``gbz-2.1-2019.json``, ``gbz-2.2-2007.json``, ``osha.json``, ``niosh.json``, ``eu.json``). Every limit row
carries its clause, its references into the research notes (docs/sources.md) and a verification mark:

- ``verified``: read in an official text or a faithful copy; ``secondary``: read in a secondary source;
- ``unverified``: from memory or conflicting sources, shipped so it is *shown*, never used silently;
- ``site``: a site override (exposure.profiles.load_overrides).

A bad file raises CatalogueError naming the file, the row and the field.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal, cast, get_args

from exposure.errors import InvalidInput

Kind = Literal["twa", "stel", "ceiling", "peak", "idlh", "action_level", "lower_action_level"]
Mark = Literal["verified", "secondary", "unverified", "site"]
Fraction = Literal["total", "respirable", "inhalable"]
Family = Literal["gas", "dust", "noise", "oxygen", "flammable"]
Note = Literal["skin", "carcinogen"]

KINDS: Final = frozenset(get_args(Kind))
MARKS: Final = frozenset(get_args(Mark))
FRACTIONS: Final = frozenset(get_args(Fraction))
FAMILIES: Final = frozenset(get_args(Family))
NOTES: Final = frozenset(get_args(Note))
LIMITS_SCHEMA: Final = "hazmon.limits/1"
SUBSTANCES_SCHEMA: Final = "hazmon.substances/1"
LIMIT_FILES: Final = ("gbz-2.1-2019.json", "gbz-2.2-2007.json", "osha.json", "niosh.json", "eu.json")

_UNITS_BY_FAMILY: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "gas": frozenset({"ppm", "mg/m3"}),
        "dust": frozenset({"mg/m3"}),
        "noise": frozenset({"dB(A)", "dB(C)"}),
        "oxygen": frozenset({"%vol"}),
        "flammable": frozenset({"%LEL"}),
    }
)


class CatalogueError(InvalidInput):
    """A catalogue or override file that does not validate: names the file, the row and the field."""

    def __init__(self, file: str, where: str, reason: str) -> None:
        super().__init__(f"{file}: {where}" if where else file, reason)
        self.file = file
        self.where = where


@dataclass(frozen=True, slots=True)
class Substance:
    id: str
    name_en: str
    name_zh: str
    cas: str | None
    mw: float | None
    family: Family
    quantity: str | None
    unit: str
    refs: tuple[str, ...] = ()
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    jurisdiction: str
    document: str
    edition: str
    title: str
    molar_volume: float | None
    file: str
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Limit:
    """One published limit value with its provenance."""

    substance: str
    kind: Kind
    value: float
    unit: str
    source: str
    document: str
    edition: str
    clause: str
    mark: Mark
    refs: tuple[str, ...] = ()
    averaging_min: float | None = None
    fraction: Fraction | None = None
    variant: str | None = None
    notes: tuple[Note, ...] = ()
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    max_count: int | None = None
    comment: str = ""

    @property
    def citation(self) -> str:
        return f"{self.document} {self.clause}"

    def valid_on(self, on: dt.date | None) -> bool:
        """Is the row in force on `on`? Without a date: the current row of a series (no end date)."""
        if on is None:
            return self.valid_until is None
        if self.valid_from is not None and on < self.valid_from:
            return False
        return not (self.valid_until is not None and on >= self.valid_until)


@dataclass(frozen=True, slots=True)
class Catalogue:
    substances: Mapping[str, Substance]
    sources: Mapping[str, Source]
    limits: tuple[Limit, ...]

    def substance(self, substance_id: str) -> Substance:
        try:
            return self.substances[substance_id]
        except KeyError:
            known = ", ".join(sorted(self.substances))
            raise InvalidInput("substance", f"unknown substance {substance_id!r} (known: {known})") from None

    def variants_of(self, substance_id: str) -> tuple[str, ...]:
        """The limit variants the catalogues know for a substance (a silica dust's free-SiO2 classes ...)."""
        return tuple(sorted({lim.variant for lim in self.limits if lim.substance == substance_id and lim.variant}))

    def limits_of(self, substance_id: str, sources: Sequence[str] | None = None) -> tuple[Limit, ...]:
        return tuple(
            lim for lim in self.limits if lim.substance == substance_id and (sources is None or lim.source in sources)
        )


# -- validation helpers -------------------------------------------------------------------------------------


class _Row:
    """Typed access to one JSON object; every error names the file, the row and the field."""

    def __init__(self, file: str, where: str, raw: Any, allowed: frozenset[str]) -> None:
        if not isinstance(raw, Mapping):
            raise CatalogueError(file, where, "must be an object")
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise CatalogueError(file, f"{where}.{unknown[0]}", "unknown field")
        self.file, self.where, self.raw = file, where, raw

    def fail(self, field: str, reason: str) -> CatalogueError:
        return CatalogueError(self.file, f"{self.where}.{field}", reason)

    def str_(self, field: str, *, required: bool = True, default: str = "") -> str:
        if field not in self.raw or self.raw[field] is None:
            if required:
                raise self.fail(field, "missing field")
            return default
        value = self.raw[field]
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(field, "must be a non-empty string")
        return value

    def opt_str(self, field: str) -> str | None:
        value = self.raw.get(field)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, "must be a non-empty string or null")
        return value

    def number(self, field: str, *, required: bool = True) -> float | None:
        value = self.raw.get(field)
        if value is None:
            if required:
                raise self.fail(field, "missing field")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
            raise self.fail(field, f"must be a positive number, got {value!r}")
        return float(value)

    def int_(self, field: str) -> int | None:
        value = self.raw.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(field, f"must be a positive integer, got {value!r}")
        return int(value)

    def choice(self, field: str, choices: frozenset[str], *, required: bool = True) -> str | None:
        value = self.raw.get(field)
        if value is None:
            if required:
                raise self.fail(field, "missing field")
            return None
        if value not in choices:
            raise self.fail(field, f"{value!r} is not one of {', '.join(sorted(choices))}")
        return cast(str, value)

    def strings(self, field: str, choices: frozenset[str] | None = None) -> tuple[str, ...]:
        value = self.raw.get(field, [])
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(field, "must be a list of strings")
        if choices is not None:
            for v in value:
                if v not in choices:
                    raise self.fail(field, f"{v!r} is not one of {', '.join(sorted(choices))}")
        return tuple(value)

    def date(self, field: str) -> dt.date | None:
        value = self.raw.get(field)
        if value is None:
            return None
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            pass
        raise self.fail(field, f"must be a date YYYY-MM-DD, got {value!r}")


_SUBSTANCE_FIELDS = frozenset(
    {"id", "name_en", "name_zh", "cas", "mw", "family", "quantity", "unit", "refs", "comment"}
)
_SOURCE_FIELDS = frozenset({"id", "jurisdiction", "document", "edition", "title", "molar_volume", "comment"})
LIMIT_FIELDS: Final = frozenset(
    {
        "substance", "kind", "value", "unit", "clause", "mark", "refs", "averaging_min", "fraction", "variant",
        "notes", "valid_from", "valid_until", "max_count", "comment", "edition",
    }
)


def _top(file: str, text: str, schema: str, key: str) -> list[Any]:
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise CatalogueError(file, "", f"not valid JSON: {exc}") from None
    if not isinstance(raw, Mapping):
        raise CatalogueError(file, "", "must be a JSON object")
    if raw.get("schema") != schema:
        raise CatalogueError(file, "schema", f"expected {schema!r}, got {raw.get('schema')!r}")
    rows = raw.get(key)
    if not isinstance(rows, list):
        raise CatalogueError(file, key, "must be a list")
    return rows


def parse_substances(text: str, *, file: str = "substances.json") -> dict[str, Substance]:
    out: dict[str, Substance] = {}
    for i, raw in enumerate(_top(file, text, SUBSTANCES_SCHEMA, "substances")):
        row = _Row(file, f"substances[{i}]", raw, _SUBSTANCE_FIELDS)
        sid = row.str_("id")
        if sid in out:
            raise row.fail("id", f"duplicate substance {sid!r}")
        family = cast(Family, row.choice("family", FAMILIES))
        unit = row.str_("unit")
        if unit not in _UNITS_BY_FAMILY[family]:
            raise row.fail("unit", f"{unit!r} does not fit a {family}")
        out[sid] = Substance(
            id=sid,
            name_en=row.str_("name_en"),
            name_zh=row.str_("name_zh"),
            cas=row.opt_str("cas"),
            mw=row.number("mw", required=False),
            family=family,
            quantity=row.opt_str("quantity"),
            unit=unit,
            refs=row.strings("refs"),
            comment=row.str_("comment", required=False),
        )
    return out


def parse_limit_row(
    raw: Any, *, file: str, where: str, substances: Mapping[str, Substance], source: Source, allowed: frozenset[str]
) -> Limit:
    """Validate one limit row (also used for site overrides)."""
    row = _Row(file, where, raw, allowed)
    sid = row.str_("substance")
    sub = substances.get(sid)
    if sub is None:
        raise row.fail("substance", f"unknown substance {sid!r}")
    unit = row.str_("unit")
    if unit not in _UNITS_BY_FAMILY[sub.family]:
        raise row.fail("unit", f"{unit!r} does not fit {sid} (a {sub.family})")
    if unit == "ppm" and sub.mw is None:
        raise row.fail("unit", f"{sid} has no molecular weight, so a ppm value cannot be used")
    value = row.number("value")
    assert value is not None
    valid_from, valid_until = row.date("valid_from"), row.date("valid_until")
    if valid_from and valid_until and valid_until <= valid_from:
        raise row.fail("valid_until", "must be after valid_from")
    return Limit(
        substance=sid,
        kind=cast(Kind, row.choice("kind", KINDS)),
        value=value,
        unit=unit,
        source=source.id,
        document=source.document,
        edition=row.str_("edition", required=False, default=source.edition),
        clause=row.str_("clause"),
        mark=cast(Mark, row.choice("mark", MARKS)),
        refs=row.strings("refs"),
        averaging_min=row.number("averaging_min", required=False),
        fraction=cast("Fraction | None", row.choice("fraction", FRACTIONS, required=False)),
        variant=row.opt_str("variant"),
        notes=cast("tuple[Note, ...]", row.strings("notes", NOTES)),
        valid_from=valid_from,
        valid_until=valid_until,
        max_count=row.int_("max_count"),
        comment=row.str_("comment", required=False),
    )


def parse_limits(text: str, *, file: str, substances: Mapping[str, Substance]) -> tuple[Source, tuple[Limit, ...]]:
    rows = _top(file, text, LIMITS_SCHEMA, "limits")
    raw = json.loads(text)
    src = _Row(file, "source", raw.get("source"), _SOURCE_FIELDS)
    source = Source(
        id=src.str_("id"),
        jurisdiction=src.str_("jurisdiction"),
        document=src.str_("document"),
        edition=src.str_("edition"),
        title=src.str_("title"),
        molar_volume=src.number("molar_volume", required=False),
        file=file,
        comment=src.str_("comment", required=False),
    )
    limits = tuple(
        parse_limit_row(r, file=file, where=f"limits[{i}]", substances=substances, source=source, allowed=LIMIT_FIELDS)
        for i, r in enumerate(rows)
    )
    seen: set[tuple[object, ...]] = set()
    for i, lim in enumerate(limits):
        key = (lim.substance, lim.kind, lim.fraction, lim.variant, lim.averaging_min, lim.valid_from, lim.valid_until)
        if key in seen:
            raise CatalogueError(file, f"limits[{i}]", "duplicates an earlier row (same substance, kind, fraction, "
                                 "variant, averaging and validity)")
        seen.add(key)
    return source, limits


def _read(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def build_catalogue(substances_text: str, limit_texts: Mapping[str, str]) -> Catalogue:
    """Build a catalogue from file texts (name -> JSON text). Used by load_catalogue and by tests."""
    substances = parse_substances(substances_text)
    sources: dict[str, Source] = {}
    limits: list[Limit] = []
    for file, text in limit_texts.items():
        source, rows = parse_limits(text, file=file, substances=substances)
        if source.id in sources:
            raise CatalogueError(file, "source.id", f"duplicate source {source.id!r}")
        sources[source.id] = source
        limits.extend(rows)
    return Catalogue(MappingProxyType(substances), MappingProxyType(sources), tuple(limits))


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """The packaged catalogue (read once, then cached)."""
    return build_catalogue(_read("substances.json"), {name: _read(name) for name in LIMIT_FILES})


__all__ = [
    "FRACTIONS",
    "KINDS",
    "MARKS",
    "Catalogue",
    "CatalogueError",
    "Fraction",
    "Kind",
    "Limit",
    "Mark",
    "Source",
    "Substance",
    "build_catalogue",
    "load_catalogue",
    "parse_limit_row",
]

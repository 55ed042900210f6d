"""The quantities a reading may carry, their canonical unit and the units accepted for them.

See DESIGN §4.1. Unit spellings are normalised to one canonical spelling per unit; a unit that does not fit
the quantity is rejected, so a dust value in ppm never reaches an exposure calculation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from exposure.errors import InvalidInput

Hazard = Literal["noise", "dust", "gas", "oxygen", "flammable", "context"]

# alias -> canonical spelling
_UNIT_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "dB(A)": "dB(A)", "dBA": "dB(A)", "dB(C)": "dB(C)", "dBC": "dB(C)",
        "mg/m3": "mg/m3", "mg/m³": "mg/m3",
        "ug/m3": "ug/m3", "µg/m3": "ug/m3", "μg/m3": "ug/m3", "µg/m³": "ug/m3", "μg/m³": "ug/m3",
        "ppm": "ppm", "ppb": "ppb",
        "%vol": "%vol", "% vol": "%vol", "%VOL": "%vol", "%LEL": "%LEL", "% LEL": "%LEL",
        "degC": "degC", "°C": "degC", "C": "degC", "%RH": "%RH", "% RH": "%RH",
        "count/0.1L": "count/0.1L", "#/0.1L": "count/0.1L",
    }
)


def canonical_unit(unit: str) -> str | None:
    """The canonical spelling of `unit`, or None when hazmon does not know it."""
    return _UNIT_ALIASES.get(unit.strip())


@dataclass(frozen=True, slots=True)
class Quantity:
    """One measurable quantity: its id, hazard family, canonical unit and the units accepted on input."""

    id: str
    hazard: Hazard
    unit: str
    accepted_units: frozenset[str]
    description: str


def _q(qid: str, hazard: Hazard, unit: str, others: tuple[str, ...], description: str) -> Quantity:
    return Quantity(qid, hazard, unit, frozenset((unit, *others)), description)


_GAS_UNITS = ("mg/m3", "ppb")
_DUST_UNITS = ("ug/m3",)

QUANTITIES: Mapping[str, Quantity] = MappingProxyType(
    {
        q.id: q
        for q in (
            _q("laeq", "noise", "dB(A)", (), "A-weighted equivalent continuous sound level over interval_s"),
            _q("lcpeak", "noise", "dB(C)", (), "C-weighted peak sound pressure level"),
            _q("pm1", "dust", "mg/m3", _DUST_UNITS, "particulate matter below 1 µm"),
            _q("pm2_5", "dust", "mg/m3", _DUST_UNITS, "particulate matter below 2.5 µm"),
            _q("pm4", "dust", "mg/m3", _DUST_UNITS, "particulate matter below 4 µm (respirable fraction)"),
            _q("pm10", "dust", "mg/m3", _DUST_UNITS, "particulate matter below 10 µm"),
            _q("tsp", "dust", "mg/m3", _DUST_UNITS, "total suspended particulate (total dust)"),
            _q("co", "gas", "ppm", _GAS_UNITS, "carbon monoxide"),
            _q("h2s", "gas", "ppm", _GAS_UNITS, "hydrogen sulfide"),
            _q("nh3", "gas", "ppm", _GAS_UNITS, "ammonia"),
            _q("cl2", "gas", "ppm", _GAS_UNITS, "chlorine"),
            _q("so2", "gas", "ppm", _GAS_UNITS, "sulfur dioxide"),
            _q("no2", "gas", "ppm", _GAS_UNITS, "nitrogen dioxide"),
            _q("hcn", "gas", "ppm", _GAS_UNITS, "hydrogen cyanide"),
            _q("benzene", "gas", "ppm", _GAS_UNITS, "benzene"),
            _q("toluene", "gas", "ppm", _GAS_UNITS, "toluene"),
            _q("hcho", "gas", "ppm", _GAS_UNITS, "formaldehyde"),
            _q("co2", "gas", "ppm", _GAS_UNITS, "carbon dioxide"),
            _q("o2", "oxygen", "%vol", (), "oxygen, percent by volume"),
            _q("lel", "flammable", "%LEL", (), "flammable gas, percent of the lower explosive limit"),
            _q("temperature", "context", "degC", (), "air temperature"),
            _q("humidity", "context", "%RH", (), "relative humidity"),
            _q("pc_0_3", "context", "count/0.1L", (), "particles above 0.3 µm per 0.1 L of air"),
            _q("pc_0_5", "context", "count/0.1L", (), "particles above 0.5 µm per 0.1 L of air"),
            _q("pc_1_0", "context", "count/0.1L", (), "particles above 1.0 µm per 0.1 L of air"),
            _q("pc_2_5", "context", "count/0.1L", (), "particles above 2.5 µm per 0.1 L of air"),
            _q("pc_5_0", "context", "count/0.1L", (), "particles above 5.0 µm per 0.1 L of air"),
            _q("pc_10", "context", "count/0.1L", (), "particles above 10 µm per 0.1 L of air"),
        )
    }
)


def unit_for(quantity: str, unit: str) -> str:
    """The canonical spelling of `unit` when it fits `quantity`.

    Raises InvalidInput naming `quantity` (unknown) or `unit` (unknown, or not a unit of that quantity); the one
    check behind readings, plugin register maps and alert rules.
    """
    q = QUANTITIES.get(quantity)
    if q is None:
        raise InvalidInput("quantity", f"unknown quantity {quantity!r}")
    canonical = canonical_unit(unit)
    if canonical is None or canonical not in q.accepted_units:
        accepted = ", ".join(sorted(q.accepted_units))
        raise InvalidInput("unit", f"unit {unit!r} does not fit {q.id} (accepted: {accepted})")
    return canonical


# The physical range of a value in each unit: what the quantity can take at all, with room for a sensor's zero
# drift below 0 (an electrochemical cell at -0.3 ppm is a real reading of clean air). Not a judgement of sensor
# quality: a value outside it is not a measurement (an overflow, a scaling slip, a corrupt frame) and is rejected
# where it enters, at the agent and again at the server, so it never becomes a reading.
#   dB: the loudest sound air can carry undistorted is ~194 dB; meters print down to about -10 dB.
#   ppm/ppb: 1e6 ppm is the pure gas. mg/m3: the densest pure gas of the catalogue near 25 °C (Cl2, ~2.9e6) fits.
#   %vol: 0-100 with drift; %LEL: 100 %vol of hydrogen is 2,500 %LEL. degC: absolute zero to a furnace.
PHYSICAL_RANGE: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "dB(A)": (-50.0, 250.0),
        "dB(C)": (-50.0, 250.0),
        "ppm": (-1_000.0, 1_000_000.0),
        "ppb": (-1_000_000.0, 1_000_000_000.0),
        "mg/m3": (-1_000.0, 10_000_000.0),
        "ug/m3": (-1_000_000.0, 10_000_000_000.0),
        "%vol": (-10.0, 110.0),
        "%LEL": (-100.0, 10_000.0),
        "degC": (-273.15, 2_000.0),
        "%RH": (-10.0, 110.0),
        "count/0.1L": (0.0, 1_000_000_000.0),
    }
)


def implausible(value: float, unit: str) -> str | None:
    """Why `value` in `unit` cannot be a measurement (`not_finite`, `out_of_physical_range`), or None when it can.

    `unit` is the canonical spelling; a unit without a known range is only checked for finiteness."""
    if not math.isfinite(value):
        return "not_finite"
    low, high = PHYSICAL_RANGE.get(unit, (-math.inf, math.inf))
    if not low <= value <= high:
        return "out_of_physical_range"
    return None

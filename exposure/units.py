"""Unit conversions: ppm <-> mg/m3 with a molar volume, ug/m3 <-> mg/m3, ppb <-> ppm, Pa <-> dB (peaks).

The molar volume is an argument, never a hidden default: each jurisdiction profile names its own
(exposure.profiles). Formula (CCOHS, research notes §2.4 [R43a]): mg/m3 = ppm x MW / Vm.
"""

from __future__ import annotations

import math
from typing import Final

from exposure.errors import InvalidInput

#: L/mol at 25 degC and 101.325 kPa: US practice (ACGIH, NIOSH, OSHA) [R43a][R32a].
MOLAR_VOLUME_25C: Final = 24.45
#: L/mol at 20 degC and 101.3 kPa: EU directives' annex footnotes [R44d][R44f].
MOLAR_VOLUME_20C: Final = 24.06
#: L/mol at 0 degC and 101.325 kPa: seen in some Chinese vendor tables [R21b].
MOLAR_VOLUME_0C: Final = 22.41

#: Reference sound pressure for dB SPL, Pa (20 uPa).
P_REF_PA: Final = 20e-6

CONCENTRATION_UNITS: Final = frozenset({"ppm", "ppb", "mg/m3", "ug/m3"})
_VOLUME_RATIO = {"ppm": 1.0, "ppb": 1e-3}
_MASS_CONC = {"mg/m3": 1.0, "ug/m3": 1e-3}


def ppm_to_mg_m3(ppm: float, mw: float, molar_volume: float) -> float:
    """mg/m3 = ppm x MW / Vm."""
    return ppm * mw / molar_volume


def mg_m3_to_ppm(mg_m3: float, mw: float, molar_volume: float) -> float:
    """ppm = mg/m3 x Vm / MW."""
    return mg_m3 * molar_volume / mw


def convert_concentration(
    value: float, from_unit: str, to_unit: str, *, mw: float | None = None, molar_volume: float | None = None
) -> float:
    """Convert between ppm, ppb, mg/m3 and ug/m3. Crossing volume <-> mass needs `mw` and `molar_volume`."""
    for name, unit in (("from_unit", from_unit), ("to_unit", to_unit)):
        if unit not in CONCENTRATION_UNITS:
            raise InvalidInput(name, f"unknown concentration unit {unit!r} (known: ppm, ppb, mg/m3, ug/m3)")
    if from_unit == to_unit:
        return value
    if from_unit in _VOLUME_RATIO and to_unit in _VOLUME_RATIO:
        return value * _VOLUME_RATIO[from_unit] / _VOLUME_RATIO[to_unit]
    if from_unit in _MASS_CONC and to_unit in _MASS_CONC:
        return value * _MASS_CONC[from_unit] / _MASS_CONC[to_unit]
    if mw is None or molar_volume is None:
        raise InvalidInput("mw", f"converting {from_unit} to {to_unit} needs a molecular weight and a molar volume")
    if mw <= 0 or molar_volume <= 0:
        raise InvalidInput("mw", "molecular weight and molar volume must be positive")
    if from_unit in _VOLUME_RATIO:
        mg = ppm_to_mg_m3(value * _VOLUME_RATIO[from_unit], mw, molar_volume)
        return mg / _MASS_CONC[to_unit]
    ppm = mg_m3_to_ppm(value * _MASS_CONC[from_unit], mw, molar_volume)
    return ppm / _VOLUME_RATIO[to_unit]


def molar_volume_at(temperature_c: float, pressure_kpa: float = 101.325) -> float:
    """Ideal-gas molar volume in L/mol: Vm = R T / P."""
    if pressure_kpa <= 0 or temperature_c <= -273.15:
        raise InvalidInput("temperature_c", "temperature must be above absolute zero and pressure positive")
    return 8.314462618 * (temperature_c + 273.15) / pressure_kpa


def pa_to_db(pressure_pa: float) -> float:
    """Peak sound pressure level, dB re 20 uPa: L = 20 lg(p / p0)."""
    if pressure_pa <= 0:
        raise InvalidInput("pressure_pa", "must be positive")
    return 20.0 * math.log10(pressure_pa / P_REF_PA)


def db_to_pa(level_db: float) -> float:
    """Sound pressure in Pa for a level in dB re 20 uPa: p = p0 x 10^(L/20)."""
    return float(P_REF_PA * 10.0 ** (level_db / 20.0))

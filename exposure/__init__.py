"""The science of hazmon, pure: readings, quantities, limits and exposure metrics.

No I/O (beyond reading packaged data), no clock, no framework. Time is always an argument.
"""

from exposure.batch import BATCH_SCHEMA, Batch, decode_batch, encode_batch
from exposure.catalogue import Catalogue, CatalogueError, Limit, Substance, load_catalogue
from exposure.chemical import ceiling, gbz_peak_rule, mixture_index, osha_z2_peaks, stel, twa
from exposure.errors import InvalidInput
from exposure.noise import lex_8h, lex_w, noise_dose, peak_level
from exposure.profiles import AppliedLimit, Profile, applicable_limit, applicable_limits, get_profile
from exposure.quantities import QUANTITIES, Quantity, canonical_unit, unit_for
from exposure.readings import FLAGS, Reading, validate_reading
from exposure.results import Coverage, Gap, LimitUsed
from exposure.segments import Segment, Series, series_from_durations, series_from_readings
from exposure.streaming import ChemicalEvaluator, NoiseEvaluator, PeakLevelEvaluator

__all__ = [
    "BATCH_SCHEMA",
    "FLAGS",
    "QUANTITIES",
    "AppliedLimit",
    "Batch",
    "Catalogue",
    "CatalogueError",
    "ChemicalEvaluator",
    "Coverage",
    "Gap",
    "InvalidInput",
    "Limit",
    "LimitUsed",
    "NoiseEvaluator",
    "PeakLevelEvaluator",
    "Profile",
    "Quantity",
    "Reading",
    "Segment",
    "Series",
    "Substance",
    "applicable_limit",
    "applicable_limits",
    "canonical_unit",
    "ceiling",
    "decode_batch",
    "encode_batch",
    "gbz_peak_rule",
    "get_profile",
    "lex_8h",
    "lex_w",
    "load_catalogue",
    "mixture_index",
    "noise_dose",
    "osha_z2_peaks",
    "peak_level",
    "series_from_durations",
    "series_from_readings",
    "stel",
    "twa",
    "unit_for",
    "validate_reading",
]

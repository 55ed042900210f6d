"""The science of hazmon, pure: readings, quantities, limits and exposure metrics.

No I/O (beyond reading packaged data), no clock, no framework. Time is always an argument.
"""

from exposure.batch import BATCH_SCHEMA, Batch, decode_batch, encode_batch
from exposure.errors import InvalidInput
from exposure.quantities import QUANTITIES, Quantity, canonical_unit
from exposure.readings import FLAGS, Reading, validate_reading

__all__ = [
    "BATCH_SCHEMA",
    "FLAGS",
    "QUANTITIES",
    "Batch",
    "InvalidInput",
    "Quantity",
    "Reading",
    "canonical_unit",
    "decode_batch",
    "encode_batch",
    "validate_reading",
]

"""JSON from the wire, strictly: what every input path (HTTP bodies, MQTT payloads) parses with.

Refused with InvalidInput (one clear reason) instead of surprising the code behind it:
- not UTF-8, not JSON;
- nesting deeper than `max_depth` (the standard parser would hit Python's recursion limit near 1,000 levels);
- `NaN`, `Infinity`, `-Infinity`, and numbers too large for a float (`1e400`);
- integers outside the signed 64-bit range (no column stores them; `seq` >= 2^63 included);
- strings (values or keys) with lone surrogates (`"\\ud800"`), which no database can store.
"""

from __future__ import annotations

import json
import math
from typing import Any

from exposure.errors import InvalidInput

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MAX_DEPTH = 32
#: how the reason of a body that is not JSON at all begins
NOT_JSON = "not valid JSON"


def _constant(name: str) -> Any:
    raise InvalidInput("", f"{name} is not a number JSON allows (numbers must be finite)")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > 19:
        raise InvalidInput("", "an integer is out of the 64-bit range")
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise InvalidInput("", "an integer is out of the 64-bit range")
    return value


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InvalidInput("", "a number is too large (numbers must be finite)")
    return value


def loads(data: bytes | str, *, max_depth: int = MAX_DEPTH, non_finite: bool = False) -> Any:
    """Parse `data` as JSON under the rules above, or raise InvalidInput. With `non_finite`, NaN, +-Infinity and
    numbers too large for a float are parsed as floats for the caller's validator to refuse with the field's
    path (a batch: `readings[3].value: must be finite`); every other rule holds."""
    try:
        value = json.loads(data, parse_constant=float if non_finite else _constant, parse_int=_int,
                           parse_float=float if non_finite else _float)
    except InvalidInput:
        raise
    except RecursionError:
        raise InvalidInput("", f"nested deeper than {max_depth} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("", f"{NOT_JSON}: {_short(exc)}") from None
    check(value, max_depth=max_depth)
    return value


def check(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Depth and strings of an already decoded value (iteratively: no recursion limit to hit)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _text(item)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise InvalidInput("", f"nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                for k, v in item.items():
                    _text(k)
                    stack.append((v, depth + 1))
            else:
                stack.extend((v, depth + 1) for v in item)


def _text(s: str) -> None:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput("", "a string holds a lone surrogate (not valid Unicode)") from None


def _short(exc: Exception) -> str:
    text = str(exc)
    return text if len(text) <= 120 else text[:117] + "..."

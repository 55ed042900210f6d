"""The batch codec (DESIGN §4.2): what the agent encodes the server decodes unchanged, and every bad batch is
refused as a whole with the path of the first bad field and the reason."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exposure import FLAGS, QUANTITIES, Batch, InvalidInput, Reading, decode_batch, encode_batch
from exposure.quantities import PHYSICAL_RANGE
from exposure.readings import MAX_FUTURE_MS

NOW = 1_764_410_401_250  # 2025-11-29, the example in DESIGN §4.2


def _batch(**envelope: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 1042, "sent_ms": NOW,
        "readings": [
            {"sensor": "press-2-noise", "quantity": "laeq", "value": 88.4, "unit": "dB(A)",
             "ts": NOW - 250, "interval_s": 1.0, "flags": []},
            {"sensor": "grinding-dust", "quantity": "pm4", "value": 0.62, "unit": "mg/m3",
             "ts": NOW - 250, "interval_s": None, "flags": ["simulated"]},
        ],
    }
    raw.update(envelope)
    return raw


def _with_reading(index: int = 0, **fields: Any) -> dict[str, Any]:
    raw = _batch()
    raw["readings"] = copy.deepcopy(raw["readings"])
    raw["readings"][index].update(fields)
    return raw


def _rejected(data: bytes | str | dict[str, Any]) -> InvalidInput:
    if isinstance(data, dict):
        data = json.dumps(data)
    with pytest.raises(InvalidInput) as info:
        decode_batch(data, now_ms=NOW)
    return info.value


def test_encode_then_decode_gives_the_same_batch():
    """A batch encoded by the agent decodes to an equal Batch."""
    batch = Batch("plant-a", "gw-1", 7, NOW, (
        Reading("press-2-noise", "laeq", 88.4, "dB(A)", NOW - 1000, 1.0, ()),
        Reading("tank-3-gas", "h2s", 12.5, "ppm", NOW - 500, None, ("simulated", "warmup")),
    ))
    assert decode_batch(encode_batch(batch), now_ms=NOW) == batch


def test_the_design_example_decodes():
    """The JSON example of DESIGN §4.2 is a valid batch."""
    batch = decode_batch(json.dumps(_batch()), now_ms=NOW)
    assert (batch.site, batch.agent, batch.seq, batch.sent_ms) == ("plant-a", "gw-1", 1042, NOW)
    assert batch.readings[0] == Reading("press-2-noise", "laeq", 88.4, "dB(A)", NOW - 250, 1.0, ())


def test_value_outside_the_physical_range_is_rejected():
    """1e30 ppm is more than the pure gas: refused at readings[i].value, as the agent refuses it at its source."""
    err = _rejected(_with_reading(0, quantity="co", unit="ppm", value=1e30))
    assert err.path == "readings[0].value"
    assert "outside the physical range" in err.reason


def test_unknown_quantity_is_rejected():
    """A quantity hazmon does not know is refused at readings[i].quantity."""
    err = _rejected(_with_reading(1, quantity="radon"))
    assert err.path == "readings[1].quantity"
    assert err.reason == "unknown quantity 'radon'"


def test_unit_that_does_not_fit_the_quantity_is_rejected():
    """Dust in ppm never reaches an exposure calculation: the unit is refused, naming the accepted ones."""
    err = _rejected(_with_reading(1, unit="ppm"))
    assert err.path == "readings[1].unit"
    assert err.reason.startswith("unit 'ppm' does not fit pm4")
    assert "mg/m3" in err.reason and "ug/m3" in err.reason


def test_unknown_unit_is_rejected():
    """A unit spelling hazmon does not know is refused like a unit that does not fit."""
    err = _rejected(_with_reading(0, unit="decibels"))
    assert err.path == "readings[0].unit"
    assert err.reason.startswith("unit 'decibels' does not fit laeq")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_value_is_rejected(literal):
    """The JSON literals NaN and ±Infinity are not measurements."""
    text = json.dumps(_with_reading(0, value=123456.5)).replace("123456.5", literal)
    assert literal in text
    err = _rejected(text)
    assert err.path == "readings[0].value"
    assert err.reason == "must be finite (NaN and infinity are not measurements)"


def test_timestamp_far_in_the_future_is_rejected():
    """A ts more than the allowed clock skew ahead of the server's clock is refused, saying by how much."""
    err = _rejected(_with_reading(0, ts=NOW + 600_000))
    assert err.path == "readings[0].ts"
    assert err.reason == "is 600 s in the future"


def test_timestamp_within_the_allowed_skew_is_accepted():
    """A ts exactly at the allowed clock skew ahead is still accepted."""
    batch = decode_batch(json.dumps(_with_reading(0, ts=NOW + MAX_FUTURE_MS)), now_ms=NOW)
    assert batch.readings[0].ts == NOW + MAX_FUTURE_MS


def test_timestamp_in_seconds_is_rejected():
    """A ts in seconds instead of milliseconds lies before 2000 and is refused with a hint."""
    err = _rejected(_with_reading(0, ts=NOW // 1000))
    assert err.path == "readings[0].ts"
    assert "seconds instead of ms" in err.reason


def test_fractional_timestamp_is_rejected():
    """ts is an integer number of milliseconds."""
    err = _rejected(_with_reading(0, ts=NOW - 0.5))
    assert err.path == "readings[0].ts"
    assert err.reason.startswith("must be an integer")


@pytest.mark.parametrize("field", ["site", "agent", "seq", "sent_ms", "readings"])
def test_missing_envelope_field_is_rejected(field):
    """Every envelope field is required."""
    raw = _batch()
    del raw[field]
    err = _rejected(raw)
    assert (err.path, err.reason) == (field, "missing field")


@pytest.mark.parametrize("field", ["sensor", "quantity", "value", "unit", "ts"])
def test_missing_reading_field_is_rejected(field):
    """Every reading names its sensor, quantity, value, unit and ts."""
    raw = _with_reading(1)
    del raw["readings"][1][field]
    err = _rejected(raw)
    assert (err.path, err.reason) == (f"readings[1].{field}", "missing field")


def test_unknown_envelope_field_is_rejected():
    """An envelope field the schema does not define is refused, not ignored."""
    err = _rejected(_batch(priority="high"))
    assert (err.path, err.reason) == ("priority", "unknown field")


def test_unknown_reading_field_is_rejected():
    """A reading field the schema does not define is refused, not ignored."""
    err = _rejected(_with_reading(0, colour="red"))
    assert (err.path, err.reason) == ("readings[0].colour", "unknown field")


@pytest.mark.parametrize("schema", ["hazmon.batch/2", None, 1])
def test_wrong_schema_is_rejected(schema):
    """Only hazmon.batch/1 is understood."""
    err = _rejected(_batch(schema=schema))
    assert err.path == "schema"
    assert err.reason.startswith("expected 'hazmon.batch/1'")


def test_not_json_is_rejected():
    """Bytes that are not JSON are refused at the root path."""
    err = _rejected(b'{"schema": "hazmon.batch/1", ')
    assert err.path == ""
    assert err.reason.startswith("not valid JSON")


def test_invalid_utf8_is_rejected():
    """Bytes that are not UTF-8 are refused like any other non-JSON."""
    err = _rejected(b'{"schema": "\xff\xfe"}')
    assert err.path == ""
    assert err.reason.startswith("not valid JSON")


def test_json_that_is_not_an_object_is_rejected():
    """A JSON array is not a batch."""
    err = _rejected("[1, 2, 3]")
    assert (err.path, err.reason) == ("", "a batch must be a JSON object")


@pytest.mark.parametrize("seq", [0, -1])
def test_seq_zero_or_negative_is_rejected(seq):
    """seq starts at 1."""
    err = _rejected(_batch(seq=seq))
    assert (err.path, err.reason) == ("seq", "must be a positive integer")


def test_bool_seq_is_rejected():
    """true is not the number 1."""
    err = _rejected(_batch(seq=True))
    assert (err.path, err.reason) == ("seq", "must be a positive integer")


@pytest.mark.parametrize(("field", "reason"), [
    ("value", "must be a number"),
    ("ts", "must be an integer (ms since the Unix epoch, UTC)"),
    ("interval_s", "must be a number of seconds or null"),
])
def test_bool_where_a_number_is_expected_is_rejected(field, reason):
    """A JSON boolean is never read as 0 or 1."""
    err = _rejected(_with_reading(0, **{field: True}))
    assert (err.path, err.reason) == (f"readings[0].{field}", reason)


def test_unknown_flag_is_rejected():
    """Flags come from a closed set."""
    err = _rejected(_with_reading(0, flags=["shiny"]))
    assert (err.path, err.reason) == ("readings[0].flags", "unknown flag 'shiny'")


def test_one_bad_reading_rejects_the_whole_batch_at_its_index():
    """The first bad reading is named by its index; nothing partial is returned."""
    raw = _batch()
    raw["readings"] = [*raw["readings"], {**raw["readings"][0], "value": "loud"}]
    err = _rejected(raw)
    assert err.path == "readings[2].value"


@pytest.mark.parametrize(("quantity", "given_unit", "canonical"), [
    ("pm2_5", "µg/m3", "ug/m3"),  # micro sign U+00B5
    ("pm2_5", "μg/m³", "ug/m3"),  # Greek mu U+03BC and a superscript 3
    ("laeq", "dBA", "dB(A)"),
    ("lcpeak", "dBC", "dB(C)"),
    ("pm10", "mg/m³", "mg/m3"),
    ("temperature", "°C", "degC"),
])
def test_unit_aliases_are_normalised(quantity, given_unit, canonical):
    """A unit alias becomes its canonical spelling; the value stays in the unit given."""
    batch = decode_batch(json.dumps(_with_reading(0, quantity=quantity, unit=given_unit, value=42.5)), now_ms=NOW)
    assert batch.readings[0].unit == canonical
    assert batch.readings[0].value == 42.5


_CANONICAL_UNITS = [(q.id, unit) for q in QUANTITIES.values() for unit in sorted(q.accepted_units)]
_ID = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True)


@st.composite
def _readings(draw: st.DrawFn) -> Reading:
    quantity, unit = draw(st.sampled_from(_CANONICAL_UNITS))
    return Reading(
        sensor=draw(st.text(min_size=1, max_size=128).filter(str.strip)),
        quantity=quantity,
        value=draw(st.floats(*PHYSICAL_RANGE[unit])),
        unit=unit,
        ts=draw(st.integers(min_value=946_684_800_000, max_value=NOW + MAX_FUTURE_MS)),
        interval_s=draw(st.none() | st.floats(min_value=1e-6, max_value=86_400.0)),
        flags=tuple(draw(st.lists(st.sampled_from(sorted(FLAGS)), max_size=3))),
    )


@given(
    site=_ID, agent=_ID, seq=st.integers(min_value=1, max_value=2**63 - 1),  # 64-bit signed: the contract's bound
    sent_ms=st.integers(min_value=0, max_value=2**63 - 1),
    readings=st.lists(_readings(), max_size=5),
)
def test_any_valid_batch_survives_encode_and_decode(site, agent, seq, sent_ms, readings):
    """Property: any valid Reading (canonical unit) in any valid envelope decodes exactly as it was encoded."""
    batch = Batch(site, agent, seq, sent_ms, tuple(readings))
    assert decode_batch(encode_batch(batch), now_ms=NOW) == batch

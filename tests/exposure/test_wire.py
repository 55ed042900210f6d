"""The wire contracts (exposure.wire): one topic scheme, one ack shape on both uplinks, one alarm event, one
severity scale; what is encoded decodes to the same value, and anything else is refused with the field named."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exposure import wire

names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True)
ids = st.lists(st.text(min_size=1, max_size=40), max_size=20).map(tuple)
finite = st.floats(allow_nan=False, allow_infinity=False)
events = st.builds(
    wire.AlarmEvent,
    id=st.text(min_size=1, max_size=64),
    rule=names,
    kind=st.sampled_from(["raised", "cleared"]),
    sensor=names,
    quantity=names,
    value=finite,
    unit=st.sampled_from(["ppm", "mg/m³", "dB(A)", "% vol"]),
    threshold=finite,
    ts=st.integers(min_value=0, max_value=2**53),
    severity=st.sampled_from(wire.SEVERITIES),
    metric=st.sampled_from(["value", "stel"]),
    message=st.text(max_size=80),
)


@given(site=names, agent=names, leaf=st.sampled_from(wire.LEAVES))
def test_topic_parses_back_to_its_parts(site: str, agent: str, leaf: wire.Leaf) -> None:
    """`parse_topic(topic(site, agent, leaf))` is `(site, agent, leaf)`."""
    assert wire.parse_topic(wire.topic(site, agent, leaf)) == (site, agent, leaf)


@pytest.mark.parametrize("name", [
    "hazmon/v2/plant-a/gw-1/batch", "hazmon/v1/plant-a/gw-1/readings", "hazmon/v1/plant-a/batch",
    "hazmon/v1//gw-1/batch", "hazmon/v1/plant-a/gw-1/batch/extra", "other/v1/plant-a/gw-1/ack", "",
])
def test_a_topic_outside_the_scheme_is_not_parsed(name: str) -> None:
    """Another version, an unknown leaf, an empty site or a topic of the wrong depth is None."""
    assert wire.parse_topic(name) is None


def test_the_server_subscribes_to_every_agent_leaf_but_ack() -> None:
    """The server's filters cover batch, status and alarm of every site and agent; it publishes ack."""
    assert [wire.topic_filter(leaf) for leaf in wire.AGENT_LEAVES] == [
        "hazmon/v1/+/+/batch", "hazmon/v1/+/+/status", "hazmon/v1/+/+/alarm"]
    assert "ack" not in wire.AGENT_LEAVES and set(wire.AGENT_LEAVES) < set(wire.LEAVES)


@given(seq=st.none() | st.integers(min_value=0, max_value=2**63), alarms=st.none() | ids)
def test_an_ack_decodes_to_what_was_encoded(seq: int | None, alarms: tuple[str, ...] | None) -> None:
    """Every ack the server can send (a watermark, alarm ids, or both) reads back the same on the agent."""
    if seq is None and alarms is None:
        return
    ack = wire.Ack(acked_seq=seq, acked_alarms=alarms)
    assert wire.decode_ack(ack.encode()) == ack
    assert wire.decode_ack(ack.to_json()) == ack


def test_an_ack_uses_the_two_keys_of_the_contract() -> None:
    """`{"acked_seq": N}` for batches and `{"acked_alarms": [ids]}` for alarm events, on both uplinks."""
    assert json.loads(wire.Ack(acked_seq=7).encode()) == {"acked_seq": 7}
    assert json.loads(wire.Ack(acked_alarms=("a", "b")).encode()) == {"acked_alarms": ["a", "b"]}


def test_the_alarm_ack_of_an_older_server_is_understood() -> None:
    """An older server answered edge alarms over HTTP with `{"acked": [ids]}`; the agent still reads it, and
    `acked_alarms` wins when a server sends both."""
    assert wire.decode_ack(b'{"acked": ["e1"]}') == wire.Ack(acked_alarms=("e1",))
    assert wire.decode_ack({"acked_alarms": ["new"], "acked": ["new"]}).acked_alarms == ("new",)


@pytest.mark.parametrize("payload", [
    b"", b"not json", b"[1]", b"{}", b'{"acked_seq": "7"}', b'{"acked_seq": true}', b'{"acked_seq": -1}',
    b'{"acked_seq": 1.5}', b'{"acked_alarms": "e1"}', b'{"acked_alarms": [1]}', b'{"other": 1}', b"\xff",
])
def test_anything_but_an_ack_is_refused(payload: bytes) -> None:
    """A malformed ack raises ValueError (the uplink logs it and deletes nothing)."""
    with pytest.raises(ValueError):
        wire.decode_ack(payload)


def test_an_empty_ack_cannot_be_made() -> None:
    """An Ack acknowledges something: a watermark or alarm ids."""
    with pytest.raises(ValueError):
        wire.Ack()


@given(event=events)
def test_an_alarm_event_decodes_to_what_was_encoded(event: wire.AlarmEvent) -> None:
    """Every event round-trips through the alarm message body, field for field."""
    assert wire.decode_alarm_events(wire.encode_alarm_events([event])) == (event,)
    assert tuple(event.to_json()) == wire.ALARM_EVENT_FIELDS


def test_an_alarm_message_has_one_key() -> None:
    """The `.../alarm` topic and `POST /api/v1/edge-alarms` carry `{"events": [...]}`."""
    event = wire.AlarmEvent(id="e1", rule="h2s-local", kind="raised", sensor="tank-1", quantity="h2s", value=25.0,
                            unit="ppm", threshold=20.0, ts=1_764_410_401_000, severity="critical")
    assert json.loads(wire.encode_alarm_events([event])) == {"events": [{
        "id": "e1", "rule": "h2s-local", "kind": "raised", "sensor": "tank-1", "quantity": "h2s", "metric": "value",
        "severity": "critical", "value": 25.0, "unit": "ppm", "threshold": 20.0, "ts": 1_764_410_401_000,
        "message": ""}]}


@pytest.mark.parametrize(("change", "field"), [
    ({"id": ""}, "id"), ({"kind": "opened"}, "kind"), ({"severity": "high"}, "severity"),
    ({"value": "25"}, "value"), ({"value": True}, "value"), ({"threshold": None}, "threshold"),
    ({"ts": 1.5}, "ts"), ({"sensor": 3}, "sensor"), ({"message": None}, "message"),
])
def test_a_bad_alarm_event_is_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    """The error says which event and which field is wrong."""
    good = wire.AlarmEvent(id="e1", rule="r", kind="raised", sensor="s", quantity="h2s", value=1.0, unit="ppm",
                           threshold=1.0, ts=0).to_json()
    with pytest.raises(ValueError, match=rf"^events\[1\]\.{field}: "):
        wire.decode_alarm_events({"events": [good, {**good, **change}]})


def test_an_alarm_event_without_optional_fields_takes_the_defaults() -> None:
    """severity, metric and message may be left out (warning, value, empty); unknown keys are ignored."""
    event = wire.AlarmEvent.from_json({"id": "e1", "rule": "r", "kind": "cleared", "sensor": "s", "quantity": "co",
                                       "value": 3, "unit": "ppm", "threshold": 25, "ts": 5, "future": 1})
    assert (event.severity, event.metric, event.message, event.value) == ("warning", "value", "", 3.0)


def test_severity_ranks_follow_the_scale() -> None:
    """info < warning < critical < emergency; an unknown name is an error, never rank 0."""
    assert [wire.severity_rank(s) for s in wire.SEVERITIES] == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="unknown severity 'high'"):
        wire.severity_rank("high")


@given(flags=st.lists(st.sampled_from(["late", "calibration_overdue", "sensor_fault", "warmup", "out_of_range"])))
def test_a_reading_is_unreliable_exactly_when_it_has_an_unreliable_flag(flags: list[str]) -> None:
    """sensor_fault, warmup and out_of_range make a reading unreliable; late and calibration_overdue do not."""
    assert wire.is_unreliable(flags) == bool({"sensor_fault", "warmup", "out_of_range"} & set(flags))


def test_a_status_report_leaves_out_what_is_unknown() -> None:
    """Fields that are None are not sent; the Last Will says offline and claims no outbox counts."""
    report = wire.StatusReport(state="online", version="0.1.0", ts=5, outbox_batches=2, outbox_readings=40)
    assert report.to_json() == {"state": "online", "version": "0.1.0", "ts": 5, "outbox_batches": 2,
                                "outbox_readings": 40, "outbox_full": False}
    assert set(report.to_json()) <= set(wire.STATUS_FIELDS)
    assert json.loads(report.encode()) == report.to_json()
    assert wire.OFFLINE.to_json() == {"state": "offline", "version": "", "outbox_full": False}


def test_the_http_paths_live_under_the_api_prefix() -> None:
    """The agent posts batches, status and alarm events to these paths under /api/v1."""
    assert (wire.INGEST_PATH, wire.STATUS_PATH, wire.EDGE_ALARMS_PATH) == (
        "/api/v1/ingest", "/api/v1/agent-status", "/api/v1/edge-alarms")

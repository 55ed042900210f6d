"""mqtt_input: path syntax, config validation, message decoding rules, and the source against a real mosquitto
(readings, a malformed message, reconnection after the broker restarts, credentials, TLS)."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from pathlib import Path

import aiomqtt
import pytest
from pydantic import ValidationError

from plugins.mqtt_input.decode import (
    MessageRules,
    SensorTemplate,
    TimestampRule,
    ValueRule,
    decode_message,
    topic_matches,
)
from plugins.mqtt_input.paths import PathNotFound, PathSyntaxError, parse_path
from plugins.mqtt_input.source import MqttInputConfig, MqttInputSource
from tests.kit.require import service_missing
from tests.kit.waiting import wait_for_async
from tests.plugins.plugin_testkit import FIXED_TS, fixed_clock, stop

SDS011 = (
    b'{"Time":"2023-05-21T01:06:38","BME280":{"Temperature":20.5,"Humidity":53.1,"DewPoint":10.6,'
    b'"Pressure":977.0},"SDS0X1":{"PM2.5":11.8,"PM10":5.8},"PressureUnit":"hPa","TempUnit":"C"}'
)
TIMEOUT = 5.0


# --- path syntax -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("SDS0X1.PM10", ("SDS0X1", "PM10")),
        ('PMS5003."PM2.5"', ("PMS5003", "PM2.5")),
        ("readings[0].value", ("readings", 0, "value")),
        ("[2]", (2,)),
        ("a[1][0]", ("a", 1, 0)),
        ('"a \\"quoted\\" key"', ('a "quoted" key',)),
        ("$", ()),
    ],
)
def test_path_syntax_compiles_to_steps(text, steps):
    """Dots separate keys, [n] indexes a list, double quotes protect keys with dots, $ is the whole payload."""
    assert parse_path(text).steps == steps


@pytest.mark.parametrize("text", ["", "a.", ".a", "a..b", "a[x]", "a[-1]", '"open', 'a"b"', "a]"])
def test_malformed_paths_are_rejected(text):
    """A path that breaks the syntax is a config error, not a silent miss."""
    with pytest.raises(PathSyntaxError):
        parse_path(text)


def test_unquoted_dotted_key_misses_with_a_hint():
    """`SDS0X1.PM2.5` splits PM2.5; the miss says to quote the key."""
    with pytest.raises(PathNotFound, match="quote it"):
        parse_path("SDS0X1.PM2.5").lookup({"SDS0X1": {"PM2.5": 11.8}})


def test_lookup_keeps_a_zero_and_misses_wrong_types():
    """A 0 is found as 0; an index into an object or a key into a list is not found."""
    assert parse_path("a[1]").lookup({"a": [5, 0]}) == 0
    with pytest.raises(PathNotFound):
        parse_path("a[0]").lookup({"a": {"0": 1}})
    with pytest.raises(PathNotFound):
        parse_path("a.b").lookup({"a": [1]})


@pytest.mark.parametrize(
    ("topic_filter", "topic", "matches"),
    [
        ("tele/+/SENSOR", "tele/dev1/SENSOR", True),
        ("tele/+/SENSOR", "tele/dev1/STATE", False),
        ("tele/+/SENSOR", "tele/a/b/SENSOR", False),
        ("zigbee2mqtt/#", "zigbee2mqtt/bridge/state", True),
        ("zigbee2mqtt/#", "zigbee2mqtt", True),
        ("#", "$SYS/broker/uptime", False),
        ("a/b", "a/b", True),
    ],
)
def test_topic_filters_match_like_a_broker(topic_filter, topic, matches):
    """+ is one level, # the rest (and the parent), wildcards skip $ topics."""
    assert topic_matches(topic_filter, topic) is matches


# --- config ------------------------------------------------------------------------------------------------


def _table(**options) -> dict:
    return {"name": "hall", "url": "mqtt://127.0.0.1:1883", "preset": "tasmota", **options}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mappings": [{"path": "x", "quantity": "dust", "unit": "ug/m3"}]}, "unknown quantity"),
        ({"mappings": [{"path": "x", "quantity": "pm2_5", "unit": "ppm"}]}, "does not fit"),
        ({"mappings": [{"path": "a..b", "quantity": "co", "unit": "ppm"}]}, "empty segment"),
        ({"topics": ["tele/#/SENSOR"]}, "must be a whole level"),
        ({"sensor": "{topic}"}, "only {name} and {topic"),
        ({"timestamp_path": "Time", "timestamp_timezone": "Mars/Olympus"}, "unknown timestamp_timezone"),
        ({"url": "http://broker"}, "String should match pattern"),
        ({"preset": None}, "topics is empty"),
        ({"preset": None, "topics": ["a/b"]}, "mappings is empty"),
    ],
)
def test_config_errors_stop_start_up(options, message):
    """Wrong quantities, units, paths, filters, templates and zones are rejected when the config loads."""
    with pytest.raises(ValidationError, match=message.replace("{", "\\{").replace("[", "\\[")):
        MqttInputConfig.model_validate(_table(**options))


def test_preset_fills_only_what_is_not_given():
    """A preset gives topics, sensor and mappings; options in the config win, including falsy ones."""
    cfg = MqttInputConfig.model_validate(_table(topics=["site/tele/+/SENSOR"], qos=0))
    assert cfg.topics == ["site/tele/+/SENSOR"]
    assert cfg.sensor == "{topic[1]}"
    assert cfg.qos == 0
    assert any(m.path == 'SDS0X1."PM2.5"' for m in cfg.mappings)


def test_tls_from_the_url_or_the_flag(tmp_path):
    """mqtts:// and tls = true both use TLS (default port 8883 for mqtts); the password is not in the repr."""
    ca = tmp_path / "ca.pem"
    plain = MqttInputConfig.model_validate(_table(url="mqtt://broker.example")).broker_options()
    assert (plain.tls, plain.port) == (False, 1883)
    mqtts = MqttInputConfig.model_validate(
        _table(url="mqtts://broker.example", username="u", password="p", tls_ca_file=str(ca))
    ).broker_options()
    assert (mqtts.tls, mqtts.port, mqtts.tls_ca_file, mqtts.password) == (True, 8883, ca, "p")
    assert "'p'" not in repr(mqtts)
    flagged = MqttInputConfig.model_validate(_table(url="mqtt://broker.example:1884", tls=True)).broker_options()
    assert (flagged.tls, flagged.port) == (True, 1884)


# --- decoding rules ----------------------------------------------------------------------------------------


def _rules(**kwargs) -> MessageRules:
    values = kwargs.pop("values", (ValueRule(parse_path("v"), "co", "ppm"),))
    return MessageRules(values=values, sensor=SensorTemplate(kwargs.pop("sensor", "{name}"), "src"), **kwargs)


def _decode(rules: MessageRules, payload: bytes, topic: str = "a/b/c", retained: bool = False):
    return decode_message(rules, topic=topic, payload=payload, retained=retained, received_ms=FIXED_TS)


@pytest.mark.parametrize(
    ("payload", "value", "reason"),
    [
        (b'{"v": 0}', 0.0, None),
        (b'{"v": "12.5"}', 12.5, None),
        (b'{"v": " 1e2 "}', 100.0, None),
        (b'{"v": true}', None, "not_a_number"),
        (b'{"v": "nan"}', None, "not_a_number"),
        (b'{"v": null}', None, "not_a_number"),
        (b'{"v": [1]}', None, "not_a_number"),
        (b'{"v": Infinity}', None, "not_finite"),
        (b'{"v": 1e999}', None, "not_finite"),
        (b'{"w": 1}', None, "missing"),
        (b"\xff\xfe\x00", None, "not_json"),
        (b"[" * 100_000, None, "not_json"),
    ],
)
def test_values_are_numbers_or_counted_rejections(payload, value, reason):
    """Numbers and plain numeric strings are values (0 kept); booleans, nulls, NaN, infinity, missing keys and
    undecodable payloads give no reading and one counted reason."""
    rules = _rules(max_payload_bytes=1_000_000)
    decoded = _decode(rules, payload)
    assert [r.value for r in decoded.readings] == ([] if value is None else [value])
    assert [r.reason for r in decoded.rejections] == ([] if reason is None else [reason])


def test_scale_offset_and_interval_are_applied():
    """value = number * scale + offset, with the mapping's interval_s."""
    rules = _rules(values=(ValueRule(parse_path("$"), "laeq", "dB(A)", scale=0.1, offset=1.0, interval_s=60.0),))
    (reading,) = _decode(rules, b"650").readings
    assert (reading.value, reading.interval_s) == (66.0, 60.0)


def test_sensor_id_from_topic_levels():
    """{topic[n]} takes a topic level (negative from the end); a missing level is counted."""
    rules = _rules(sensor="{name}-{topic[-2]}")
    assert _decode(rules, b'{"v": 1}', topic="tele/dev1/SENSOR").readings[0].sensor == "src-dev1"
    rules = _rules(sensor="{topic[5]}")
    assert [r.reason for r in _decode(rules, b'{"v": 1}').rejections] == ["bad_sensor_name"]


@pytest.mark.parametrize(
    ("fmt", "raw", "ts"),
    [
        ("epoch_ms", "1764410000123", 1_764_410_000_123),
        ("epoch_s", "1764410000.5", 1_764_410_000_500),
        ("iso8601", '"2025-11-29T09:53:20Z"', 1_764_410_000_000),
        ("iso8601", '"2025-11-29T10:53:20+01:00"', 1_764_410_000_000),
    ],
)
def test_timestamps_from_the_payload(fmt, raw, ts):
    """Epoch seconds or milliseconds, or ISO 8601 with an offset, become the reading's ts."""
    rules = _rules(timestamp=TimestampRule(parse_path("t"), fmt, None))
    (reading,) = _decode(rules, f'{{"v": 1, "t": {raw}}}'.encode()).readings
    assert reading.ts == ts


@pytest.mark.parametrize("raw", ['"2031-01-01T00:00:00Z"', '"yesterday"', "1764410000", "null", '"1999-12-31T23:00Z"'])
def test_unusable_timestamps_drop_the_message(raw):
    """A time far in the future, unparsable, of the wrong kind or before 2000 gives no reading at all."""
    rules = _rules(timestamp=TimestampRule(parse_path("t"), "iso8601", None))
    decoded = _decode(rules, f'{{"v": 1, "t": {raw}}}'.encode())
    assert decoded.readings == ()
    assert [r.reason for r in decoded.rejections] == ["bad_timestamp"]


def test_oversized_payload_is_not_parsed():
    """A payload over max_payload_bytes is counted as too_large without decoding it."""
    decoded = _decode(_rules(max_payload_bytes=16), b'{"v": 1, "padding": "xxxxxxxx"}')
    assert [r.reason for r in decoded.rejections] == ["too_large"]


# --- against a real broker ---------------------------------------------------------------------------------


def _source(port: int, device: str, **options) -> MqttInputSource:
    options.setdefault("url", f"mqtt://127.0.0.1:{port}")
    table = _table(topics=[f"tele/{device}/SENSOR"], **options)
    return MqttInputSource(MqttInputConfig.model_validate(table), clock=fixed_clock())


async def _publish(port: int, topic: str, *payloads: bytes, **client_options) -> None:
    async with aiomqtt.Client("127.0.0.1", port, **client_options) as client:
        for payload in payloads:
            await client.publish(topic, payload, qos=1)


def _started(source: MqttInputSource):
    """Start the stream: returns (stream, the pending next reading)."""
    stream = source.readings()
    return stream, asyncio.ensure_future(stream.__anext__())


async def _subscribed(source: MqttInputSource):
    """Start the stream and wait until the source is subscribed."""
    stream, task = _started(source)
    await wait_for_async(lambda: source.connected or task.done(), timeout=TIMEOUT, what="subscription")
    return stream, task


async def test_readings_arrive_from_a_real_broker(mosquitto):
    """A Tasmota SENSOR payload published on the broker comes out of readings() as pm2_5 and pm10."""
    _, port = mosquitto
    source = _source(port, "e2e_terrace")
    stream, task = await _subscribed(source)
    await _publish(port, "tele/e2e_terrace/SENSOR", SDS011)
    first = await asyncio.wait_for(task, TIMEOUT)
    second = await asyncio.wait_for(stream.__anext__(), TIMEOUT)
    assert [(r.sensor, r.quantity, r.value, r.unit, r.ts) for r in (first, second)] == [
        ("e2e_terrace", "pm2_5", 11.8, "ug/m3", FIXED_TS),
        ("e2e_terrace", "pm10", 5.8, "ug/m3", FIXED_TS),
    ]
    assert source.counters.frames_ok == 1
    await stream.aclose()
    await source.aclose()


async def test_subscription_survives_malformed_messages(mosquitto):
    """Not-JSON, NaN and empty payloads are counted and skipped; the next good message still gives readings."""
    _, port = mosquitto
    source = _source(port, "e2e_bad")
    stream, task = await _subscribed(source)
    await _publish(port, "tele/e2e_bad/SENSOR", b"Offline", b'{"SDS0X1":{"PM2.5":NaN}}', b"", SDS011)
    first = await asyncio.wait_for(task, TIMEOUT)
    assert (first.quantity, first.value) == ("pm2_5", 11.8)
    assert source.counters.frames_bad == {"not_json": 2, "not_finite": 1}
    assert source.counters.frames_ok == 1
    assert source.connected
    await stream.aclose()
    await source.aclose()


async def test_retained_message_is_not_stamped_with_the_receive_time(mosquitto):
    """A retained payload delivered on subscribe is skipped (its age is unknown); live ones are read."""
    _, port = mosquitto
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.publish("tele/e2e_retained/SENSOR", SDS011, qos=1, retain=True)
    source = _source(port, "e2e_retained")
    stream, task = await _subscribed(source)
    await wait_for_async(lambda: source.counters.frames_bad["retained"] == 1, timeout=TIMEOUT, what="retained count")
    await _publish(port, "tele/e2e_retained/SENSOR", b'{"MHZ19B":{"Model":"B","CarbonDioxide":424}}')
    reading = await asyncio.wait_for(task, TIMEOUT)
    assert (reading.quantity, reading.value) == ("co2", 424.0)
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.publish("tele/e2e_retained/SENSOR", b"", qos=1, retain=True)  # clear the retained message
    await stream.aclose()
    await source.aclose()


async def test_source_reconnects_when_the_broker_restarts(broker_factory):
    """With the broker gone, connection attempts are counted and retried with backoff; when it is back on the
    same port the source subscribes again (one reopen) and readings flow."""
    broker = broker_factory()
    source = _source(broker.port, "e2e_restart")
    stream, task = await _subscribed(source)
    broker.stop()
    await wait_for_async(lambda: source.counters.read_errors >= 2, timeout=TIMEOUT, what="failed reconnects")
    assert not source.connected
    assert not task.done()
    broker.start()
    await wait_for_async(lambda: source.connected, timeout=10, what="reconnection")
    assert source.counters.reopens == 1
    assert source.clock.slept  # type: ignore[attr-defined]  # waited between attempts (backoff)
    await _publish(broker.port, "tele/e2e_restart/SENSOR", SDS011)
    reading = await asyncio.wait_for(task, TIMEOUT)
    assert (reading.quantity, reading.value) == ("pm2_5", 11.8)
    await stop(task, stream, source)


async def test_credentials_are_sent_and_a_refusal_is_retried(broker_factory, tmp_path):
    """With a password file on the broker, the configured user reads; a wrong password is a counted
    connection error, retried, never a crash."""
    if shutil.which("mosquitto_passwd") is None:
        service_missing("mosquitto_passwd (Debian package mosquitto)")
    passwd = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), "agent", "s3cret"], check=True)
    passwd.chmod(0o600)
    broker = broker_factory(extra_conf=f"allow_anonymous false\npassword_file {passwd}\n")

    refused = _source(broker.port, "e2e_auth", username="agent", password="wrong")
    refused_stream, refused_task = _started(refused)
    await wait_for_async(lambda: refused.counters.read_errors >= 2, timeout=TIMEOUT, what="refused connects")
    assert not refused.connected
    await stop(refused_task, refused_stream, refused)

    source = _source(broker.port, "e2e_auth", username="agent", password="s3cret")
    stream, task = await _subscribed(source)
    await _publish(broker.port, "tele/e2e_auth/SENSOR", SDS011, username="agent", password="s3cret")
    reading = await asyncio.wait_for(task, TIMEOUT)
    assert reading.quantity == "pm2_5"
    await stream.aclose()
    await source.aclose()


def _make_certificates(directory: Path) -> Path:
    """A throwaway CA and a server certificate for 127.0.0.1, made with the openssl command."""

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, cwd=directory, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=hazmon test CA")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "2", "-extfile", "san.ext")  # fmt: skip
    return directory / "ca.pem"


async def test_tls_with_the_site_ca(broker_factory, tmp_path):
    """mqtts:// with tls_ca_file reads from a TLS broker; without that CA the certificate is refused (counted)."""
    if shutil.which("openssl") is None:
        service_missing("openssl")
    ca = _make_certificates(tmp_path)
    broker = broker_factory(
        extra_conf=f"cafile {ca}\ncertfile {tmp_path / 'server.pem'}\nkeyfile {tmp_path / 'server.key'}\n"
    )
    url = f"mqtts://127.0.0.1:{broker.port}"

    untrusted = _source(broker.port, "e2e_tls", url=url)
    untrusted_stream, untrusted_task = _started(untrusted)
    await wait_for_async(lambda: untrusted.counters.read_errors >= 1, timeout=TIMEOUT, what="refused certificate")
    assert not untrusted.connected
    await stop(untrusted_task, untrusted_stream, untrusted)

    source = _source(broker.port, "e2e_tls", url=url, tls_ca_file=str(ca))
    stream, task = await _subscribed(source)
    assert source.connected
    tls = ssl.create_default_context(cafile=str(ca))
    await _publish(broker.port, "tele/e2e_tls/SENSOR", SDS011, tls_context=tls)
    reading = await asyncio.wait_for(task, TIMEOUT)
    assert (reading.quantity, reading.value) == ("pm2_5", 11.8)
    await stream.aclose()
    await source.aclose()


def test_a_persistent_session_needs_a_payload_timestamp():
    """A message the broker kept while the agent was away would get its arrival time: refused at start-up."""
    with pytest.raises(ValidationError, match="needs timestamp_path"):
        MqttInputConfig.model_validate(_table(topics=["a/#"], session="persistent"))


def test_the_session_is_persistent_exactly_when_the_payload_carries_its_time():
    """auto: persistent (stable client id, manual acks) with timestamp_path, clean (random id) without."""
    timed = MqttInputConfig.model_validate(_table(topics=["a/#"], timestamp_path="ts", timestamp_format="epoch_ms"))
    untimed = MqttInputConfig.model_validate(_table(topics=["a/#"]))
    assert timed.broker_options().persistent and timed.broker_options().client_id.startswith("hazmon-")
    assert not untimed.broker_options().persistent and untimed.broker_options().client_id is None
    probe = MqttInputSource(timed, clock=fixed_clock()).for_probe()
    assert not probe.config.broker_options().persistent

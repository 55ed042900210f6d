"""Poison never spreads: every decoder and mapping, fed 10^5 random inputs, raises nothing and makes no reading
that is not a measurement (a rejection is counted instead).

Inputs are seeded (the same on every run) and mix pure noise with mutations of the golden cases' real frames,
so checksums, headers and lengths are hit as well as missed."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable

import pytest

from exposure import Reading
from exposure.quantities import implausible
from plugins.modbus.decode import WORDS
from plugins.modbus.source import ModbusSource
from plugins.mqtt_input.source import MqttInputConfig, MqttInputSource
from plugins.plantower.source import PlantowerSource
from plugins.sds011.source import Sds011Source
from plugins.serial_lines.source import SerialLinesSource
from plugins.winsen.source import WinsenSource
from tests.plugins.plugin_testkit import FIXED_TS, case_dirs, fixed_clock, load_input, sample_table

N = 100_000


def _measurements_only(readings: list[Reading]) -> None:
    for r in readings:
        assert isinstance(r, Reading)
        assert implausible(r.value, r.unit) is None, r


def _mutate(rng: random.Random, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(rng.randint(1, 4)):
        if not data:
            break
        i = rng.randrange(len(data))
        op = rng.random()
        if op < 0.5:
            data[i] ^= 1 << rng.randrange(8)
        elif op < 0.75:
            del data[i]
        else:
            data.insert(i, rng.randrange(256))
    return bytes(data)


def _inputs(rng: random.Random, seeds: list[bytes]) -> Callable[[], bytes]:
    def one() -> bytes:
        if seeds and rng.random() < 0.6:
            return _mutate(rng, rng.choice(seeds))
        return rng.randbytes(rng.randint(0, 48))

    return one


SERIAL = [
    ("plantower", PlantowerSource),
    ("sds011", Sds011Source),
    ("winsen", WinsenSource),
    ("serial_lines", SerialLinesSource),
]


@pytest.mark.parametrize(("plugin", "cls"), SERIAL, ids=[p for p, _ in SERIAL])
def test_serial_decoders_survive_random_bytes(plugin, cls):
    """10^5 chunks of noise and mutated real frames: feed() never raises, every reading is a measurement."""
    rng = random.Random(f"fuzz-{plugin}")
    source = cls(cls.config_model.model_validate(sample_table(plugin)), clock=fixed_clock())
    seeds = [load_input(case) for case in case_dirs(plugin)]
    if plugin == "serial_lines":
        seeds += [b"LAeq=1e999,LCpeak=1\n", b"LAeq=-1e400,LCpeak=nan\n", b"LAeq=1e308,LCpeak=1e308\n"]
    chunk = _inputs(rng, seeds)
    produced = 0
    for _ in range(N):
        readings = source.feed(chunk())
        _measurements_only(readings)
        produced += len(readings)
    counters = source.counters
    assert produced > 0, "the mutations kept some real frames whole"
    assert sum(counters.frames_bad.values()) > 0


def test_modbus_mapping_survives_random_registers():
    """10^5 polls of random register words through every preset's map (float32 NaN and infinity included)."""
    rng = random.Random("fuzz-modbus")
    table = {k: v for k, v in sample_table("modbus").items() if k != "registers"}
    produced = 0
    for preset in ("noise_rs485", "noise_rs485_gemho", "dust_rs485", "co_rs485", "h2s_rs485", "o2_rs485"):
        source = ModbusSource(ModbusSource.config_model.model_validate({**table, "preset": preset}),
                              clock=fixed_clock())
        registers = source.config.registers
        for _ in range(N // 6):
            values = [(reg, [rng.randrange(65536) for _ in range(WORDS[reg.data_type])]) for reg in registers]
            readings = source.to_readings(values, ts=FIXED_TS)
            _measurements_only(readings)
            produced += len(readings)
    assert produced > 0
    float32 = ModbusSource(ModbusSource.config_model.model_validate({**table, "registers": [
        {"quantity": "co", "unit": "ppm", "address": 0, "data_type": "float32", "scale": 1e30}]}), clock=fixed_clock())
    for _ in range(N // 10):
        readings = float32.to_readings([(float32.config.registers[0], [rng.randrange(65536), rng.randrange(65536)])],
                                       ts=FIXED_TS)
        _measurements_only(readings)
    assert float32.counters.frames_bad["not_finite"] + float32.counters.frames_bad["out_of_physical_range"] > 0


def _random_json(rng: random.Random, depth: int = 0) -> object:
    kind = rng.random()
    if depth > 3 or kind < 0.35:
        return rng.choice([
            rng.uniform(-1e6, 1e6), rng.choice([1e308, -1e308, 5e-324, 0.0, -0.0]), rng.randint(-2**70, 2**70),
            None, True, False, "", "12.5", "nan", "1e999", rng.randbytes(4).hex(),
        ])
    if kind < 0.7:
        keys = ["v", "co", "SDS0X1", "PM2.5", "Time", "values", "x", "temperature"]
        return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def test_mqtt_mappings_survive_random_payloads():
    """10^5 payloads (random bytes, random JSON documents, huge and tiny numbers) on random topics through a
    preset and a scaled mapping with a payload timestamp: handle() never raises, every reading is a measurement."""
    rng = random.Random("fuzz-mqtt")
    sources = [
        MqttInputSource(MqttInputConfig.model_validate(
            {"type": "mqtt_input", "name": "tas", "url": "mqtt://127.0.0.1", "preset": "tasmota",
             "topics": ["tele/+/SENSOR"], "timestamp_path": "Time", "timestamp_timezone": "UTC"}),
            clock=fixed_clock()),
        MqttInputSource(MqttInputConfig.model_validate(
            {"type": "mqtt_input", "name": "scaled", "url": "mqtt://127.0.0.1", "topics": ["#"],
             "sensor": "{topic[1]}", "timestamp_path": "x", "timestamp_format": "epoch_ms",
             "mappings": [{"path": "v", "quantity": "co", "unit": "ppm", "scale": 1e6, "offset": -3},
                          {"path": "values[1]", "quantity": "laeq", "unit": "dB(A)"}]}), clock=fixed_clock()),
    ]
    topics = ["tele/a/SENSOR", "tele//SENSOR", "site", "x/" + "y" * 200, "tele/é/SENSOR", "a/b/c/d"]
    produced = 0
    for i in range(N):
        if rng.random() < 0.3:
            payload = rng.randbytes(rng.randint(0, 64))
        else:
            document = _random_json(rng)
            if isinstance(document, dict) and rng.random() < 0.5:
                document["x"] = FIXED_TS - rng.randint(0, 10_000)
            payload = json.dumps(document, allow_nan=True).encode()
        source = sources[i % 2]
        readings = source.handle(rng.choice(topics), payload, retained=rng.random() < 0.05)
        _measurements_only(readings)
        produced += len(readings)
        assert all(math.isfinite(r.value) for r in readings)
    assert produced > 0
    assert sum(sources[1].counters.frames_bad.values()) > 0

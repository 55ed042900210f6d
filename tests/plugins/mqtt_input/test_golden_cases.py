"""mqtt_input golden cases: a message (topic, payload, retained flag) and a config give the expected readings.

`cases/<behaviour>/` holds `message.toml` (topic, retained, and where the payload comes from), `payload.txt` (the
payload bytes as published), `config.toml` (options over the sample's first table, or a whole table with its own
`type`), `expected.jsonl` and `counters.json` (only the keys given are compared).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from plugins.mqtt_input.source import MqttInputSource
from tests.plugins.plugin_testkit import build_source, case_dirs

CASES = case_dirs("mqtt_input")


def _run(case: Path) -> tuple[list[dict], dict]:
    message = tomllib.loads((case / "message.toml").read_text(encoding="utf-8"))
    source = build_source("mqtt_input", MqttInputSource, case)
    payload = (case / "payload.txt").read_bytes()
    readings = source.handle(message["topic"], payload, retained=message.get("retained", False))
    return [r.to_dict() for r in readings], source.counters.as_dict()


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_golden_case(case):
    """Each captured or constructed message decodes to exactly the expected readings and counters."""
    got, counters = _run(case)
    lines = (case / "expected.jsonl").read_text(encoding="utf-8").splitlines()
    assert got == [json.loads(line) for line in lines if line.strip()]
    for key, value in json.loads((case / "counters.json").read_text(encoding="utf-8")).items():
        assert counters[key] == value, key

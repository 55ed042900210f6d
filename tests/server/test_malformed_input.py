"""Bad input is never a 5xx: 2,000 malformed batches (bad JSON, deep nesting, huge numbers, NaN and Infinity,
lone surrogates, 10 MB bodies), generated deterministically, each answered 4xx with one clear message, counted,
and nothing of any of them stored; other JSON routes, path ids and query integers likewise."""

from __future__ import annotations

import json
import random

import pytest

from exposure import InvalidInput, strict_json
from tests.server.api_kit import SITE, batch, now_ms, reading

N_BATCHES = 2000


def _envelope(seq: object = 1, readings: str = "[]", **extra: str) -> bytes:
    fields = ['"schema": "hazmon.batch/1"', f'"site": "{SITE}"', '"agent": "gw-1"', f'"seq": {seq}',
              f'"sent_ms": {now_ms()}', f'"readings": {readings}', *(f'"{k}": {v}' for k, v in extra.items())]
    return ("{" + ", ".join(fields) + "}").encode()


def _reading_json(**override: str) -> str:
    fields = {"sensor": '"tank-3-gas"', "quantity": '"h2s"', "value": "1.0", "unit": '"ppm"',
              "ts": str(now_ms() - 5000), "interval_s": "null", "flags": "[]", **override}
    return "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + "}"


def malformed_batches(n: int, seed: int = 13) -> list[tuple[str, bytes]]:
    """`n` malformed batches of every kind, the same ones on every run; each holds one valid reading too, so
    a partly stored batch would show."""
    rnd = random.Random(seed)
    good = _reading_json()

    def with_bad(**field: str) -> bytes:
        return _envelope(readings=f"[{good}, {_reading_json(**field)}]")

    kinds = [
        ("truncated JSON", lambda: batch(rnd.randint(1, 99), [reading(ts=now_ms() - 5000)])[: rnd.randint(1, 60)]),
        ("not UTF-8", lambda: _envelope(readings=f'[{good}, {_reading_json(sensor=chr(34) + "x" + chr(34))}]')
         .replace(b'"x"', b'"\xff\xfe"')),
        ("deep nesting, unclosed", lambda: _envelope(readings=f"[{good}, " + "[" * rnd.randint(9, 20000))),
        ("deep nesting, closed", lambda: _envelope(readings="[" + good + ", " + "[" * (d := rnd.randint(9, 3000))
                                                   + "]" * d + "]")),
        ("huge integer value", lambda: with_bad(value="9" * rnd.randint(20, 400))),
        ("value too large for a float", lambda: with_bad(value=f"1e{rnd.randint(309, 9999)}")),
        ("seq >= 2^63", lambda: _envelope(seq=2**63 + rnd.randint(0, 10**6), readings=f"[{good}]")),
        ("ts over 64 bits", lambda: with_bad(ts=str(2**64 + rnd.randint(0, 99)))),
        ("NaN", lambda: with_bad(value=rnd.choice(["NaN", "Infinity", "-Infinity"]))),
        ("lone surrogate in a sensor name",
         lambda: with_bad(sensor=json.dumps("press-" + chr(rnd.randint(0xD800, 0xDFFF))))),
        ("lone surrogate in a key", lambda: _envelope(readings=f"[{good}]", **{"\\udc80x": "1"})),
        ("gap dropped over 32 bits", lambda: _envelope(readings=f"[{good}]", gaps='[{"sensor": "s", "from_ts": 1, '
                                                       f'"to_ts": 2, "dropped": {2**40}, "reason": "disk_full"}}]')),
        ("wrong types", lambda: _envelope(seq=rnd.choice(['"1"', "1.5", "true", "null", "[]", "-3"]),
                                          readings=f"[{good}]")),
    ]
    out = []
    for i in range(n):
        name, make = kinds[i % len(kinds)]
        out.append((name, make()))
    return out


@pytest.mark.slow
def test_2000_malformed_batches_give_no_5xx_and_store_nothing(app, client, agent_headers, admin_headers):
    """Every malformed batch is refused with a 4xx and a reason, counted, and no reading of any is stored."""
    bodies = malformed_batches(N_BATCHES)
    big = _envelope(readings=f"[{_reading_json()}]").replace(b'"readings"', b'"pad": "' + b"x" * 10_000_000
                                                              + b'", "readings"')
    bodies += [("10 MB body", big), ("17 MB body", b"[" * 17_000_000)]
    statuses: dict[str, set[int]] = {}
    for name, body in bodies:
        r = client.post("/api/v1/ingest", content=body, headers=agent_headers)
        statuses.setdefault(name, set()).add(r.status_code)
        assert r.status_code < 500, (name, r.status_code, r.text[:300])
        assert r.status_code in (400, 403, 413, 422), (name, r.status_code, r.text[:300])
        assert r.json()["detail"], name
    status = client.get("/api/v1/status", headers=admin_headers).json()
    assert (status["readings_total"], status["batches_total"], status["sensors"]) == (0, 0, 0)
    counted = status["counters"]
    assert counted.get("ingest_rejected_invalid", 0) + counted.get("http_rejected_too_large", 0) == len(bodies)
    assert statuses["17 MB body"] == {413}


@pytest.mark.parametrize("body", [
    b"[" * 100_000, b'{"events": [' + b"[" * 40 + b"]" * 40 + b"]}", b'{"events": [], "x": NaN}',
    b'{"events": [], "x": 1e999}', b'{"events": [], "x": 99999999999999999999}', b'{"events": ["\\ud800"]}',
    b'{"events": [' + b"0," * 600_000 + b"0]}",
])
def test_bad_json_on_any_route_is_a_422_or_413(client, agent_headers, body):
    """The edge-alarm route (like every JSON route) refuses deep, non-finite, oversized and non-Unicode JSON."""
    r = client.post("/api/v1/edge-alarms", content=body,
                    headers={**agent_headers, "content-type": "application/json"})
    assert r.status_code in (413, 422), r.text[:300]


def test_ids_and_integers_beyond_64_bits_are_422(client, admin_headers):
    """A path id or a query integer outside the signed 64-bit range is a 422, for a worker token too."""
    for path in (f"/api/v1/workers/{2**64}", f"/api/v1/workers/{'9' * 5000}", f"/api/v1/exams/{-(2**63) - 1}"):
        r = client.get(path, headers=admin_headers)
        assert r.status_code == 422, (path, r.status_code)
    r = client.get("/api/v1/readings", params={"sensor": "x", "limit": str(2**70)}, headers=admin_headers)
    assert r.status_code == 422
    # in range for 64 bits but not for the column: still a 4xx
    assert client.get(f"/api/v1/workers/{2**62}", headers=admin_headers).status_code in (404, 422)


def test_strict_json_refuses_what_the_standard_parser_lets_through():
    """NaN, 1e400, integers outside 64 bits, lone surrogates and deep nesting are InvalidInput with a reason."""
    for text in ("NaN", "[1e400]", str(2**63), '"\\udfff"', '{"\\ud800": 1}', "[" * 33 + "]" * 33, "[" * 9999):
        with pytest.raises(InvalidInput):
            strict_json.loads(text)
    assert strict_json.loads(str(2**63 - 1)) == 2**63 - 1

"""The notification worker is woken by the commit that queued a message, not by its next tick: with a 60-s tick,
a real server process delivers the webhook of an alert opened by an ingest within a few seconds (issue 16,
alert latency; the latency itself is measured by benchmarks/alert_latency.py, not here)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.kit.receivers import webhook_server
from tests.kit.server import ServerProcess
from tests.kit.waiting import wait_for

pytestmark = pytest.mark.slow

TICK_S = 60


def test_an_alert_webhook_does_not_wait_for_the_tick(tmp_path: Path) -> None:
    with webhook_server() as hook:
        notify = tmp_path / "notify.toml"
        notify.write_text(f"""
[[groups]]
name = "safety"
members = [{{ name = "ops", webhook = "{hook.url}", secret = "wake-test-secret-0123456789" }}]

[[policies]]
id = "gas"
hazards = ["h2s"]
min_severity = "warning"
stages = [{{ group = "safety" }}]
""")
        server = ServerProcess(tmp_path / "server", notify_file=str(notify), notify_interval_s=str(TICK_S))
        server.start()
        try:
            # the worker's first step ran at start-up; its next tick is a minute away
            token = server.agent_token("plant-a", "gw-1")
            now = time.time_ns() // 1_000_000
            body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": 1, "sent_ms": now,
                    "readings": [{"sensor": "tank-h2s", "quantity": "h2s", "value": 25.0, "unit": "ppm",
                                  "ts": now, "flags": []}]}
            t0 = time.monotonic()
            r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body),
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert r.status_code == 200, r.text
            wait_for(lambda: hook.requests, timeout=TICK_S / 4, poll_s=0.05, what="the alert's webhook")
            took = time.monotonic() - t0
        finally:
            server.stop()
    assert took < TICK_S / 4
    payload = hook.payloads()[0]
    assert payload["alert"]["sensor"] == "tank-h2s" and payload["alert"]["severity"] == "critical"

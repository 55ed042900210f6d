"""A shift too long to fold inside a request (server/web/shift_totals.py INLINE_MAX) is folded by the background
worker of a real server process: the dashboard says it is being computed (never a made-up 0 %), then shows the
dose computed here from the same readings, and the next refresh reads only the shift's unsettled end."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from server.web.shift_totals import INLINE_MAX
from tests.kit.server import ServerProcess
from tests.kit.waiting import wait_for

pytestmark = pytest.mark.slow

LEVEL = 88.0  # dB(A), constant
SECONDS = 2 * 3600


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path)
    proc.start()
    yield proc
    proc.stop()


def _seed(server: ServerProcess) -> None:
    """Two hours of 1 Hz LAeq,1s readings ending now, in 500-reading batches, and a zone that declares noise."""
    token = server.agent_token("plant-a", "gw-1")
    end = time.time_ns() // 1_000_000 // 1000 * 1000
    ts = [end - (SECONDS - k) * 1000 for k in range(1, SECONDS + 1)]
    assert len(ts) > INLINE_MAX
    for seq, i in enumerate(range(0, len(ts), 500), start=1):
        readings = [{"sensor": "press-noise", "quantity": "laeq", "value": LEVEL, "unit": "dB(A)", "ts": t,
                     "interval_s": 1.0, "flags": []} for t in ts[i:i + 500]]
        body = {"schema": "hazmon.batch/1", "site": "plant-a", "agent": "gw-1", "seq": seq,
                "sent_ms": time.time_ns() // 1_000_000, "readings": readings}
        r = httpx.post(f"{server.url}/api/v1/ingest", content=json.dumps(body),
                       headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert r.status_code == 200, r.text
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    for path, payload in (("/zones", {"code": "press", "name": "Press shop", "site": "plant-a"}),
                          ("/zones/press/sensors", {"sensor": "press-noise", "site": "plant-a"}),
                          ("/zones/press/hazards", {"substance": "noise", "quantity": "laeq"})):
        r = httpx.post(f"{server.url}/api/v1{path}", json=payload, headers=admin, timeout=10)
        assert r.status_code == 201, r.text


def _osha_dose(level: float, seconds: float) -> float:
    """OSHA 1910.95 Appendix A: D = 100 x C/T, T = 8 / 2^((L - 90) / 5) h."""
    return 100 * (seconds / 3600) / (8 / 2 ** ((level - 90) / 5))


def test_a_long_shift_is_folded_in_the_background_then_shown(server: ServerProcess) -> None:
    _seed(server)
    headers = {"Authorization": f"Bearer {server.admin_token()}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        first = client.get("/web/partials/dashboard")
        assert first.status_code == 200
        assert "being computed" in first.text
        assert 'data-percent="0.0"' not in first.text

        def shown() -> str | None:
            html = client.get("/web/partials/dashboard").text
            m = re.search(r'data-substance="noise" data-percent="([0-9.]+)"', html)
            return m.group(1) if m else None

        percent = wait_for(shown, timeout=120, what="the folded dose on the dashboard", poll_s=0.5)
    # the readings cover 2 h minus the one that started before the first; the dose is exact to the 0.1 shown
    assert float(percent) == pytest.approx(_osha_dose(LEVEL, SECONDS), abs=0.06)

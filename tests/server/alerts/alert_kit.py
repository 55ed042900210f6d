"""A running server for alert tests: the real app on a real database, users and an agent token, a controlled
clock, and readings fed through POST /api/v1/ingest (the real path). Shared by the alerts, notify and emergency
tests (and the agent's edge-alarm test)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.kit import server_internals
from tests.kit.clock import T0, Clock
from tests.kit.server import add_users, build_app, create_agent_token, create_api_token, session

__all__ = ["T0", "Clock", "Server", "running_server"]


@dataclass
class Server:
    client: TestClient
    clock: Clock
    agent_token: str
    manager: str
    viewer: str
    worker: str
    site: str = "plant-a"
    agent: str = "gw-1"
    seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def app(self):  # type: ignore[no-untyped-def]
        return self.client.app

    def session(self):  # type: ignore[no-untyped-def]
        return session(self.app)

    def ingest(self, readings: list[dict[str, Any]]) -> dict[str, Any]:
        self.seq += 1
        body = {"schema": "hazmon.batch/1", "site": self.site, "agent": self.agent, "seq": self.seq,
                "sent_ms": self.clock.now, "readings": readings}
        r = self.client.post("/api/v1/ingest", content=json.dumps(body),
                             headers={"Authorization": f"Bearer {self.agent_token}"})
        assert r.status_code == 200, r.text
        return r.json()

    def feed(self, sensor: str, quantity: str, unit: str, values: list[float], *, start: int | None = None,
             step_ms: int = 1000, flags: tuple[str, ...] = (), interval_s: float | None = None) -> int:
        """Readings one `step_ms` apart from `start` (default: now); the clock follows. Returns the last ts."""
        t = self.clock.now if start is None else start
        rows = []
        for v in values:
            rows.append({"sensor": sensor, "quantity": quantity, "value": v, "unit": unit, "ts": t,
                         "interval_s": interval_s, "flags": list(flags)})
            t += step_ms
        self.clock.now = max(self.clock.now, t)
        self.ingest(rows)
        return t - step_ms

    def get(self, path: str, token: str | None = None, **params: Any) -> Any:
        r = self.client.get(path, params=params, headers={"Authorization": f"Bearer {token or self.manager}"})
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, body: Any = None, token: str | None = None, expect: int = 200) -> Any:
        r = self.client.post(path, json=body, headers={"Authorization": f"Bearer {token or self.manager}"})
        assert r.status_code == expect, r.text
        return r.json()

    def alerts(self, **params: Any) -> list[dict[str, Any]]:
        return self.get("/api/v1/alerts", **params)

    def run_due(self) -> Any:
        with self.session() as s:
            return server_internals.notifier(self.app).run_due(s, self.clock.now)


@contextmanager
def running_server(tmp_path: Path, database_url: str, **settings: Any) -> Iterator[Server]:
    clock = Clock()
    app = build_app(tmp_path, database_url, clock=clock, **settings)
    server_internals.hold_notification_worker(app)  # the tests deliver with run_due(), tick by tick
    with TestClient(app) as client:
        with session(app) as s:
            # replace_password: a second start on the same database keeps the users
            add_users(s, {"maria": "safety_manager", "ivan": "auditor", "w-001": "worker"}, password="correct-horse",
                      now_ms=clock.now, replace_password=True, actor="cli")
            manager = create_api_token(s, user_name="maria", label="t", now_ms=clock.now)
            viewer = create_api_token(s, user_name="ivan", label="t", now_ms=clock.now)
            worker = create_api_token(s, user_name="w-001", label="t", now_ms=clock.now)
            agent = create_agent_token(s, site="plant-a", agent="gw-1", now_ms=clock.now)
            s.commit()
        yield Server(client, clock, agent, manager, viewer, worker)

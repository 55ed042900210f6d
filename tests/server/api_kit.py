"""Helpers for the server API tests: tokens made through the server's account functions, batches as the agent
sends them."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from tests.kit.server import PASSWORD, add_user, create_agent_token, create_api_token, session, wall_ms

SITE, AGENT = "plant-a", "gw-1"
now_ms = wall_ms

__all__ = ["AGENT", "PASSWORD", "SITE", "agent_token", "batch", "bearer", "now_ms", "reading", "user_token"]


def agent_token(app: FastAPI, site: str = SITE, agent: str = AGENT) -> str:
    with session(app) as s, s.begin():
        return create_agent_token(s, site=site, agent=agent, now_ms=now_ms(), actor="tests")


def user_token(app: FastAPI, name: str, role: str) -> str:
    with session(app) as s, s.begin():
        add_user(s, name=name, role=role, password=PASSWORD, now_ms=now_ms(), actor="tests")
        return create_api_token(s, user_name=name, label="tests", now_ms=now_ms(), actor="tests")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def reading(sensor: str = "tank-3-gas", quantity: str = "h2s", value: float = 1.0, unit: str = "ppm", *,
            ts: int, flags: tuple[str, ...] = (), interval_s: float | None = None) -> dict[str, Any]:
    return {"sensor": sensor, "quantity": quantity, "value": value, "unit": unit, "ts": ts,
            "interval_s": interval_s, "flags": list(flags)}


def batch(seq: int, readings: list[dict[str, Any]], *, site: str = SITE, agent: str = AGENT,
          sent_ms: int | None = None, **optional: Any) -> bytes:
    """A batch as an agent sends it; `optional` holds `first_seq` or `gaps`."""
    return json.dumps({"schema": "hazmon.batch/1", "site": site, "agent": agent, "seq": seq,
                       "sent_ms": now_ms() if sent_ms is None else sent_ms, "readings": readings,
                       **optional}).encode()

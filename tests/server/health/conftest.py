"""Fixtures for the health-file tests: an app on both databases, one user and token per role, a controlled clock,
and helpers that seed zones, sensors, readings and a day-shift roster."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.org.models import Worker
from server.series.models import Agent, ReadingRow, Sensor
from server.settings import HealthConfig
from tests.kit import server_internals
from tests.kit.clock import Clock
from tests.kit.log_leaks import sensitive
from tests.kit.server import add_users, build_app, create_api_token, session

UTC = dt.UTC
DAY = dt.date(2025, 3, 3)
H = 3_600_000
MIN = 60_000


def at(hour: float, day: dt.date = DAY) -> int:
    """ms at `hour` (UTC) of `day`."""
    return int(dt.datetime.combine(day, dt.time(), tzinfo=UTC).timestamp() * 1000 + hour * H)


T0 = at(7)  # the day shift: 07:00-15:00
ROLES = ("admin", "record_keeper", "safety_manager", "facilities", "auditor", "worker")


@dataclass
class Env:
    client: TestClient
    app: Any
    clock: Clock
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def session(self) -> Any:
        return session(self.app)

    @property
    def config(self) -> HealthConfig:
        return server_internals.health_config(self.app)

    def call(self, role: str, method: str, path: str, **kw: Any) -> Any:
        headers = {**(self.h(role) if role in self.tokens else {}), **kw.pop("headers", {})}
        return self.client.request(method, "/api/v1" + path, headers=headers, **kw)

    def ok(self, method: str, path: str, role: str = "record_keeper", **kw: Any) -> Any:
        r = self.call(role, method, path, **kw)
        assert r.status_code < 300, (r.status_code, r.text)
        return r.json() if r.headers.get("content-type", "").startswith("application/json") else r

    # -- seeding ---------------------------------------------------------------------------------------------
    def sensor(self, name: str, site: str = "plant-a") -> int:
        with self.session() as s:
            agent = s.execute(select(Agent).where(Agent.site == site, Agent.name == "gw-1")).scalar_one_or_none()
            if agent is None:
                agent = Agent(site=site, name="gw-1", token_hash=f"x-{site}", created_ms=0, acked_seq=0)
                s.add(agent)
                s.flush()
            sensor = Sensor(site=site, name=name, agent_id=agent.id, first_seen_ms=0)
            s.add(sensor)
            s.commit()
            return sensor.id

    def readings(self, sensor_id: int, quantity: str, unit: str, points: Iterable[tuple[int, float]], *,
                 flags: str = "", interval_s: float | None = None) -> None:
        with self.session() as s:
            agent_id = s.get(Sensor, sensor_id).agent_id
            s.execute(ReadingRow.__table__.insert(), [
                {"sensor_id": sensor_id, "quantity": quantity, "value": v, "unit": unit, "ts": ts,
                 "interval_s": interval_s, "flags": flags, "agent_id": agent_id, "seq": 1} for ts, v in points])
            s.commit()

    def steady(self, sensor_id: int, quantity: str, unit: str, value: float, start: int, end: int, *,
               step: int = MIN, flags: str = "", skip: tuple[int, int] | None = None) -> None:
        """One instantaneous reading per `step` in [start, end) (each holds for 60 s: exposure max_gap_s)."""
        pts = [(t, value) for t in range(start, end, step) if skip is None or not skip[0] <= t < skip[1]]
        self.readings(sensor_id, quantity, unit, pts, flags=flags)

    def worker(self, employee_no: str, *, user: str | None = None, name: str = "Test Worker") -> int:
        sensitive(name, employee_no)  # no log line may hold them (tests/kit/log_leaks.py)
        body = {"employee_no": employee_no, "name": name, "department": "press shop", "job": "operator",
                "hire_date": "2020-01-06"}
        if user:
            body["user_id"] = self.user_ids[user]
        return self.ok("POST", "/workers", json=body)["id"]

    def zone(self, code: str, sensor_ids: Iterable[str], hazards: Iterable[str]) -> None:
        self.ok("POST", "/zones", json={"code": code, "name": f"zone {code}", "site": "plant-a"})
        for name in sensor_ids:
            self.ok("POST", f"/zones/{code}/sensors", json={"sensor": name})
        for sub in hazards:
            self.ok("POST", f"/zones/{code}/hazards", json={"substance": sub})

    def roster(self, csv_text: str, mode: str = "atomic") -> dict[str, Any]:
        if not self.ok("GET", "/shift-patterns"):
            self.ok("POST", "/shift-patterns", json={"code": "day", "start": "07:00", "hours": 8})
        return self.ok("POST", f"/rosters/import?mode={mode}", content=csv_text.encode(),
                       headers={"content-type": "text/csv"})

    def compute(self) -> dict[str, int]:
        return self.ok("POST", "/exposure-records/compute")


@contextmanager
def make_env(database_url: str, tmp_path: Path, **settings: Any) -> Iterator[Env]:
    """An app on the database with one user and token per role (and `worker2`, a second worker account)."""
    clock = Clock(at(12, DAY + dt.timedelta(days=2)))
    settings = {"health_scheduler_s": 0, "health_settle_s": 300, **settings}
    app = build_app(tmp_path, database_url, clock=clock, **settings)
    with TestClient(app) as client:
        e = Env(client, app, clock)
        with session(app) as s:
            for name, role in ({role: role for role in ROLES} | {"worker2": "worker"}).items():
                e.user_ids |= add_users(s, {name: role}, password="password123", now_ms=0, actor="cli")
                e.tokens[name] = create_api_token(s, user_name=name, label="test", now_ms=0)
            s.commit()
        yield e


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    with make_env(database_url, tmp_path) as e:
        yield e


@pytest.fixture
def osha_env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    """`env` on the us-osha profile."""
    with make_env(database_url, tmp_path, profile="us-osha") as e:
        yield e


PLAN = """id = "toxic-release"
title = "Toxic release"
[[triggers]]
quantity = "co"
min_severity = "critical"
zones = ["A"]
[[steps]]
title = "Evacuate the zone"
owner = "zone supervisor"
[[steps]]
title = "Call the rescue team"
owner = "control room"
[[roster]]
id = "W3"
name = "Fitter on call"
zones = ["A"]
"""


@contextmanager
def make_plan_env(database_url: str, tmp_path: Path, **settings: Any) -> Iterator[Env]:
    """`env` with one emergency plan: toxic-release, started by a critical CO alert in zone A (or by hand), with two
    steps and W3 on its roster for zone A."""
    plans = tmp_path / "emergency"
    plans.mkdir()
    (plans / "toxic-release.toml").write_text(PLAN)
    with make_env(database_url, tmp_path, emergency_dir=plans, secret_key="test-secret-key", **settings) as e:
        yield e


@pytest.fixture
def plan_env(database_url: str, tmp_path: Path) -> Iterator[Env]:
    with make_plan_env(database_url, tmp_path) as e:
        yield e


def two_zone_plant(env: Env, *, gap_b: tuple[int, int] | None = None) -> int:
    """Zone A (co 10 ppm all day) and zone B (co 20 ppm all day, with an optional gap); worker W1 in A 07-11 and in
    B 11-15 of the day shift. Returns W1's id."""
    a, b = env.sensor("a-co"), env.sensor("b-co")
    env.steady(a, "co", "ppm", 10.0, at(5), at(17))
    env.steady(b, "co", "ppm", 20.0, at(5), at(17), skip=gap_b)
    env.zone("A", ["a-co"], ["co"])
    env.zone("B", ["b-co"], ["co"])
    wid = env.worker("W1", user="worker")
    report = env.roster("employee_no,date,shift,zone,post,start,end\n"
                        "W1,2025-03-03,day,A,,07:00,11:00\n"
                        "W1,2025-03-03,day,B,,11:00,15:00\n")
    assert report["imported"] == 2, report
    return wid


def worker_of(env: Env, employee_no: str) -> Worker:
    with env.session() as s:
        return s.execute(select(Worker).where(Worker.employee_no == employee_no)).scalar_one()

"""The demo: a server on SQLite, an agent with simulated sensors (a gas leak), wired together in one process.

Embedded defaults only: no broker, no database server. The data persists in the data dir; a second run
appends to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import cast

import uvicorn
from sqlalchemy import func, select

from agent.config import AgentConfig
from agent.plugin_manager import build_plugin_manager
from agent.runtime import Agent
from hazmon.demo_site import declare_zones
from plugins.simulator.scenarios import Kind, LeakShape, Scenario, SignalModel
from server.accounts.service import add_user
from server.alerts.models import Alert
from server.app import create_app
from server.clock import wall_clock_ms
from server.db.session import make_engine, make_sessionmaker, upgrade
from server.emergency.models import Incident
from server.ingest.agents import create_agent_token
from server.series.models import IngestedBatch
from server.settings import Settings

SITE, AGENT = "demo-site", "demo-gw"

#: The demo's emergency plan: the gas leak's critical H2S alert starts it. Nobody outside is contacted; the
#: notifications go to the server log (no notification settings are given).
DEMO_NOTIFY = """\
# The demo's notification channel: the server's log, so every alert visibly reaches someone. A site puts its
# own recipients here (mailto://, webhooks, chat; see config/notify.example.toml).
[[groups]]
name = "demo"
members = [{ name = "console", url = "log://demo" }]

[[policies]]
id = "everything"
min_severity = "warning"
repeat_every_min = 0
stages = [{ group = "demo" }]
"""

DEMO_PLAN = """\
id = "demo-toxic-release"
title = "Toxic gas release (demo)"

[[triggers]]
quantity = "h2s"
min_severity = "critical"

[[steps]]
title = "Sound the alarm and evacuate the tank farm upwind"
owner = "zone supervisor"

[[steps]]
title = "Call the rescue team (SCBA)"
owner = "control room"

[[steps]]
title = "Account for everyone at the muster point"
owner = "muster warden"

[[roster]]
id = "w-001"
name = "Demo Worker One"

[[roster]]
id = "w-002"
name = "Demo Worker Two"
"""


@dataclass(frozen=True)
class DemoSummary:
    url: str
    duration_s: float
    readings_produced: int
    readings_stored: int
    readings_total: int
    alerts_raised: int
    alerts_open: int
    incidents_started: int
    outbox_pending: int
    data_dir: str


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside our event loop: the demo owns Ctrl-C, not uvicorn."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def demo_sources() -> list[dict[str, object]]:
    return [
        {"type": "simulator", "name": "press-2-noise", "kind": "noise", "scenario": "normal_shift", "seed": 7},
        {"type": "simulator", "name": "grinding-dust", "kind": "dust", "scenario": "normal_shift", "seed": 11},
        {
            "type": "simulator",
            "name": "tank-3-gas",
            "kind": "gas",
            "scenario": "gas_leak",
            "seed": 3,
            "leak_start_s": 5.0,
        },
    ]


def demo_history(*, now_ms: int, minutes: int = 60, leak_minutes: int = 5) -> list[dict[str, object]]:
    """The demo sensors' readings as the simulator makes them, one a minute for `minutes` up to `now_ms`, the gas
    leak starting `leak_minutes` before the end (hazmon.batch/1 readings): the demo's data for a server that runs
    without the demo's agent (the accessibility test)."""
    readings: list[dict[str, object]] = []
    for src in demo_sources():
        model = SignalModel(name=str(src["name"]), kind=cast(Kind, src["kind"]),
                            scenario=cast(Scenario, src["scenario"]), seed=cast(int, src["seed"]),
                            leak=LeakShape(start_s=(minutes - leak_minutes) * 60.0))
        for k in range(minutes):
            ts = now_ms - (minutes - 1 - k) * 60_000
            readings.extend({"sensor": src["name"], "quantity": q, "value": v, "unit": unit, "ts": ts,
                             "interval_s": 60.0 if src["kind"] == "noise" else None, "flags": ["simulated"]}
                            for q, unit, v in model.sample(k, k * 60.0))
    return readings


class _Counts:
    def __init__(self, settings: Settings) -> None:
        self.engine = make_engine(settings)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)

    def incidents(self) -> int:
        with self.sessions() as s:
            return int(s.execute(select(func.coalesce(func.max(Incident.id), 0))).scalar_one())

    def readings_and_alerts(self) -> tuple[int, int, int]:
        with self.sessions() as s:
            readings = s.execute(select(func.coalesce(func.sum(IngestedBatch.n_readings), 0))).scalar_one()
            max_alert = s.execute(select(func.coalesce(func.max(Alert.id), 0))).scalar_one()
            open_alerts = s.execute(
                select(func.count()).select_from(Alert).where(Alert.state != "resolved")
            ).scalar_one()
        return int(readings), int(max_alert), int(open_alerts)

    def prepare(self) -> tuple[str, str]:
        """A fresh admin password and agent token for this run."""
        password = secrets.token_urlsafe(12)
        now = wall_clock_ms()
        with self.sessions() as s, s.begin():
            add_user(s, name="admin", role="admin", password=password, now_ms=now, actor="demo", replace_password=True)
            token = create_agent_token(s, site=SITE, agent=AGENT, now_ms=now, actor="demo")
            declare_zones(s, site=SITE, agent=AGENT, now_ms=now)
        return password, token


def write_demo_config(data_dir: Path) -> tuple[Path, Path]:
    """The demo's emergency plan directory and notification file in `data_dir` (also the accessibility test's)."""
    plans = data_dir / "emergency"
    plans.mkdir(parents=True, exist_ok=True)
    (plans / "demo-toxic-release.toml").write_text(DEMO_PLAN, encoding="utf-8")
    notify = data_dir / "notify.toml"
    notify.write_text(DEMO_NOTIFY, encoding="utf-8")
    return plans, notify


async def run_demo(
    *,
    data_dir: Path,
    port: int,
    duration_s: float | None,
    say: Callable[[str], None],
    status_line: Callable[[str], None],
) -> DemoSummary:
    plans, notify = write_demo_config(data_dir)
    settings = Settings(
        data_dir=data_dir,
        database_url="",
        port=port,
        host="127.0.0.1",
        emergency_dir=plans,
        mqtt_url="",
        influx_url="",
        notify_file=notify,
    )
    counts = _Counts(settings)
    password, token = counts.prepare()
    readings_before, max_alert_before, _ = counts.readings_and_alerts()
    incidents_before = counts.incidents()

    url = f"http://127.0.0.1:{port}"
    server = _EmbeddedServer(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    server_task = asyncio.create_task(server.serve(), name="server")
    while not server.started:
        if server_task.done():
            server_task.result()
            raise RuntimeError(f"the server did not start on port {port}")
        await asyncio.sleep(0.05)

    host = build_plugin_manager()
    config = AgentConfig.model_validate(
        {
            "schema_version": 1,
            "site": SITE,
            "agent": AGENT,
            "data_dir": str(data_dir),
            "uplink": {"type": "http", "url": url, "token": token},
        }
    )
    types = host.source_types()
    config = config.model_copy(
        update={"sources": [types[s["type"]].config_model.model_validate(s) for s in demo_sources()]}
    )
    agent = Agent(config, host=host)
    agent_task = asyncio.create_task(agent.run(), name="agent")

    say(f"hazmon demo: open {url}  (log in as admin / {password})")
    say(f"data: {data_dir}   sensors: press-2-noise, grinding-dust, tank-3-gas (gas leak from t=5 s)")
    say(f"alerts: {url}/alerts   emergency plan: {plans / 'demo-toxic-release.toml'}")

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    started = loop.time()
    try:
        while not stop.is_set():
            elapsed = loop.time() - started
            if duration_s is not None and elapsed >= duration_s:
                break
            readings, max_alert, open_alerts = await asyncio.to_thread(counts.readings_and_alerts)
            st = agent.status()
            status_line(
                f"t={elapsed:5.0f}s  read {st.readings_read}  stored {readings - readings_before}  "
                f"outbox {st.outbox.readings}  alerts raised {max_alert - max_alert_before}  open {open_alerts}"
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(1.0):
                    await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        # stop reading, hand everything read to the server, then stop the server
        agent_sources = [t for t in asyncio.all_tasks() if t.get_name().startswith("source:")]
        for task in agent_sources:
            task.cancel()
        await agent.drain(timeout_s=15.0)
        agent_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await agent_task
        server.should_exit = True
        await server_task
        produced = agent.readings_read
        pending = agent.status().outbox.readings
        agent.close()

    readings, max_alert, open_alerts = counts.readings_and_alerts()
    counts.engine.dispose()
    return DemoSummary(
        url=url,
        duration_s=round(loop.time() - started, 1),
        readings_produced=produced,
        readings_stored=readings - readings_before,
        readings_total=readings,
        alerts_raised=max_alert - max_alert_before,
        alerts_open=open_alerts,
        incidents_started=counts.incidents() - incidents_before,
        outbox_pending=pending,
        data_dir=str(data_dir),
    )


def summary_dict(summary: DemoSummary) -> dict[str, object]:
    return asdict(summary)


def is_tty() -> bool:
    return sys.stdout.isatty()

"""`create_app(settings)`: the FastAPI application. Nothing is created at import time."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse

from server.counters import Counters
from server.db.session import make_engine, make_sessionmaker, upgrade
from server.delivery import routes as delivery_routes
from server.delivery.background import background_tasks
from server.health.routes import router as health_router
from server.routes import alerts, auth, edge_alarms, incidents, ingest, monitoring
from server.rules import load_rules
from server.settings import Settings


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


def create_app(settings: Settings, *, clock: Callable[[], int] = wall_clock_ms, migrate: bool | None = None) -> FastAPI:
    """Build the app. `migrate` upgrades the schema at start-up (default: for SQLite only; run
    `hazmon server db upgrade` for PostgreSQL)."""
    rules = load_rules(settings.rules_file)  # a bad rules file stops start-up here, before serving

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings)
        if migrate if migrate is not None else settings.is_sqlite:
            upgrade(engine)
        app.state.engine = engine
        app.state.sessionmaker = make_sessionmaker(engine)
        try:
            async with alerts.alerting_tasks(app), background_tasks(app, settings):
                yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="hazmon",
        version="0.1.0",
        lifespan=lifespan,
        description="Occupational hazard monitoring: ingest, exposure, alerts, health files.",
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.rules = rules
    app.state.counters = Counters()
    alerts.setup_alerting(app, settings)  # notify settings and emergency plans are validated here

    api = APIRouter(prefix="/api/v1")
    api.include_router(ingest.router)
    api.include_router(auth.router)
    api.include_router(monitoring.router)
    for router in (alerts.router, incidents.router, edge_alarms.router):
        api.include_router(router)
    api.include_router(delivery_routes.router)
    api.include_router(health_router)

    @api.get("/health", tags=["health"], summary="Liveness and the state of the optional links (public)")
    def health() -> dict[str, str]:
        mqtt = getattr(app.state, "mqtt_ingest", None)
        influx = getattr(app.state, "influx", None)
        return {
            "status": "ok",
            "mqtt": "off" if mqtt is None else ("connected" if mqtt.connected.is_set() else "disconnected"),
            "influxdb": "off" if influx is None else ("ok" if influx.healthy else "failing"),
        }

    app.include_router(api)
    app.include_router(incidents.pages)  # /alerts, /incident, the report page and the public muster link
    page = (files("server") / "web" / "index.html").read_text(encoding="utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def index() -> HTMLResponse:
        # The page holds no data: it logs in and reads the authenticated API.
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    return app

"""`create_app(settings)`: the FastAPI application. Nothing is created at import time; every service is built
once by the composition root (server/composition.py) and reached by routes through `ServicesDep`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from server.accounts.admin import router as accounts_admin_router
from server.accounts.router import router as accounts_router
from server.accounts.user_admin import router as user_admin_router
from server.alerts.router import router as alerts_router
from server.calibration.router import router as calibration_router
from server.clock import wall_clock_ms
from server.composition import build_services, lifespan
from server.emergency.pages import pages as emergency_pages
from server.emergency.router import router as emergency_router
from server.errors import install as install_error_handlers
from server.health.router import MAX_ATTACHMENT
from server.health.router import router as health_router
from server.health.segs_router import router as segs_router
from server.i18n import LanguageMiddleware
from server.ingest.router import router as ingest_router
from server.ingest.service import MAX_BODY as INGEST_MAX_BODY
from server.ingest.tokens import router as agent_tokens_router
from server.metrics import router as metrics_router
from server.notify.router import router as notify_router
from server.org.router import router as org_router
from server.overview.alerts import router as alert_detail_router
from server.overview.router import router as overview_router
from server.request_limits import RequestGuard
from server.security_headers import SecurityHeaders
from server.series.router import router as series_router
from server.settings import Settings
from server.web.admin_audit import router as audit_router
from server.web.admin_pages import router as admin_pages_router
from server.web.board import router as board_router
from server.web.board_api import router as board_api_router
from server.web.board_links_pages import router as board_links_pages_router
from server.web.exams_pages import router as exams_pages_router
from server.web.facilities_pages import router as facilities_pages_router
from server.web.incident_pages import router as incident_pages_router
from server.web.live_events import router as live_events_router
from server.web.org_pages import router as org_pages_router
from server.web.pages import router as pages_router
from server.web.pages import static_files
from server.web.records_pages import router as records_pages_router
from server.web.templating import use_site_zone


def create_app(settings: Settings, *, clock: Callable[[], int] = wall_clock_ms, migrate: bool | None = None) -> FastAPI:
    """Build the app. `migrate` upgrades the schema at start-up (default: for SQLite only; run
    `hazmon server db upgrade` for PostgreSQL). Bad configuration raises here, before serving."""
    services = build_services(settings, clock=clock)
    use_site_zone(settings.health_timezone)  # the pages show times in the site's zone
    do_migrate = migrate if migrate is not None else settings.is_sqlite

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(services, migrate=do_migrate):
            yield

    app = FastAPI(
        title="hazmon",
        version="0.1.0",
        lifespan=app_lifespan,
        docs_url=None,  # /docs is served from packaged files (server/web/pages.py), never a CDN
        redoc_url=None,
        description="Occupational hazard monitoring: ingest, exposure, alerts, health files.",
    )
    app.state.services = services  # the one typed entry point (server.services.get_services)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(LanguageMiddleware, default=settings.language)
    app.add_middleware(RequestGuard, counters=services.counters, limits={"/api/v1/ingest": INGEST_MAX_BODY},
                       other_max_bytes=MAX_ATTACHMENT + 1024 * 1024, parsed_elsewhere=frozenset({"/api/v1/ingest"}))
    install_error_handlers(app, counters=services.counters)  # outermost: 500s with a reference, nothing personal

    api = APIRouter(prefix="/api/v1")
    for router in (ingest_router, agent_tokens_router, accounts_router, accounts_admin_router, overview_router,
                   series_router, alerts_router, alert_detail_router, notify_router, emergency_router, org_router,
                   health_router, segs_router, calibration_router, board_api_router, user_admin_router, audit_router):
        api.include_router(router)
    app.include_router(api)
    app.include_router(board_router)  # /board/{zone}: the kiosk notice board, its partials and hazard card
    app.include_router(pages_router)  # /, /live, /zones/{code}, /alerts, /alerts/{id}, /incident, /web/partials
    app.include_router(records_pages_router)  # /workers, /workers/{employee_no}, /me and their partials
    app.include_router(facilities_pages_router)  # /agents, /sensors, /calibration, /rules and their partials
    app.include_router(admin_pages_router)  # /admin/users, tokens, agents, audit, settings and their partials
    app.include_router(board_links_pages_router)  # /board-links: admins create and revoke kiosk links
    app.include_router(live_events_router)  # /web/events: the pages' live stream (SSE)
    app.mount("/static", static_files(), name="static")  # the pages' packaged assets
    app.include_router(incident_pages_router)  # /incident, /incidents/{id}, their partials, the public muster page
    app.include_router(emergency_pages)  # the printable report and the public muster link
    app.include_router(org_pages_router)  # /org/...: zones, hazards, shifts, roster import, assignments, sensors
    app.include_router(exams_pages_router)  # /exams/...: the exams due, results, sample import
    app.include_router(metrics_router)  # /metrics for Prometheus (HAZMON_METRICS_TOKEN)
    return app

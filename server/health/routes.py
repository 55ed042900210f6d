"""The health-file API: one router (mounted under /api/v1) that includes the organisation and file routes and
whose lifespan runs the exposure-record scheduler (server/health/scheduler.py)."""

from __future__ import annotations

from fastapi import APIRouter

from server.health import routes_files, routes_org
from server.health.scheduler import scheduler_lifespan

router = APIRouter(lifespan=scheduler_lifespan)
router.include_router(routes_org.router)
router.include_router(routes_files.router)

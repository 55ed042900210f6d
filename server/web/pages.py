"""The operations pages, served as packaged files: the live page (`/`), alerts and incident. They hold no data:
each logs in and reads the authenticated API."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


def _page(name: str) -> HTMLResponse:
    return HTMLResponse((files("server.web") / name).read_text(encoding="utf-8"), headers={"Cache-Control": "no-store"})


@router.get("/", response_class=HTMLResponse)
def index() -> HTMLResponse:
    return _page("index.html")


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page() -> HTMLResponse:
    return _page("alerts.html")


@router.get("/incident", response_class=HTMLResponse)
def incident_page() -> HTMLResponse:
    return _page("incident.html")

"""The operations pages, served as packaged files: the live page (`/`), alerts and incident, and the API
documentation (`/docs`, Swagger UI from the fastapi-offline package: never a CDN). They hold no data: each logs in
and reads the authenticated API. Every script and style is a file under `/static` (the Content-Security-Policy
allows no inline ones, server/security_headers.py)."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse, Response

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


@router.get("/docs", response_class=HTMLResponse)
def api_docs() -> HTMLResponse:
    return _page("docs.html")


_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
#: Swagger UI's files, as the fastapi-offline package ships them (pinned in pyproject.toml, MIT/Apache-2.0)
_SWAGGER = frozenset({"swagger-ui-bundle.js", "swagger-ui.css"})


@router.get("/static/{name}")
def static(name: str) -> Response:
    """A packaged script or style: ours (server/web/static) or Swagger UI's."""
    suffix = name[name.rfind("."):] if "." in name else ""
    if "/" in name or name.startswith(".") or suffix not in _TYPES:
        raise HTTPException(404, "no such file")
    where = files("fastapi_offline") / "static" if name in _SWAGGER else files("server.web") / "static"
    path = where / name
    if not path.is_file():
        raise HTTPException(404, "no such file")
    return Response(path.read_bytes(), media_type=_TYPES[suffix], headers={"Cache-Control": "max-age=3600"})

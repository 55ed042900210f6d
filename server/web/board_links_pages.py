"""The kiosk links page (`/board-links`, admins): every zone with its notice-board links, a form to create one
and a button to revoke each. A public shell like the other pages; its partial admits admins only. Creating and
revoking go through the JSON API (server/web/board_api.py) from static/board-links.js: the new link's address is
shown once, with a copy button, and a revoke asks for a second click in the page."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.auth import AdminDep
from server.org.models import Zone
from server.services import SessionDep
from server.web.board_links import BoardLinkInfo, list_links
from server.web.templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ZoneLinks:
    code: str
    name: str
    active: tuple[BoardLinkInfo, ...]
    revoked: tuple[BoardLinkInfo, ...]


def zone_links(session: Session) -> tuple[ZoneLinks, ...]:
    """Each zone, by code, with its active links (newest first) and its revoked ones."""
    out = []
    for z in session.execute(select(Zone).order_by(Zone.code)).scalars():
        links = list_links(session, z.code)
        out.append(ZoneLinks(z.code, z.name, tuple(reversed([i for i in links if i.revoked_ms is None])),
                             tuple(reversed([i for i in links if i.revoked_ms is not None]))))
    return tuple(out)


@router.get("/board-links", response_class=HTMLResponse)
def board_links_page() -> HTMLResponse:
    return render("board_links.html", nav="board-links")


@router.get("/web/partials/board-links", response_class=HTMLResponse)
def board_links_part(session: SessionDep, _: AdminDep) -> HTMLResponse:
    return render("_board_links.html", zones=zone_links(session))

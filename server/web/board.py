"""The zone notice board for a screen on the shop floor: `/board/{zone}?k=<token>` opens with a kiosk link
(server/web/board_links.py), no sign-in; its live levels (`/board/{zone}/live`) and the latest days' results
(`/board/{zone}/results`) refresh themselves with htmx, authenticated by the same token. `/board/{zone}/card.pdf`
is the printable hazard notification card (with the token, or `/zones/{zone}/card.pdf` for staff). A wrong or
revoked link gets a readable refusal page. Nothing on it names a person."""

from __future__ import annotations

from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.auth import StaffDep
from server.org.models import Zone
from server.services import Services, ServicesDep, SessionDep
from server.web import board_view
from server.web.board_card import card_pdf
from server.web.board_links import zone_of_token
from server.web.templating import render

router = APIRouter(include_in_schema=False)

TokenQ = Annotated[str, Query(alias="k", max_length=128)]
#: the PDF exports' embedded font (server/health/fonts/README.md): a kiosk's browser may have no Chinese font
_CJK_FONT = files("server.health") / "fonts" / "DroidSansFallbackFull.ttf"


def _refused(*, partial: bool = False) -> HTMLResponse:
    return render("_board_refused.html" if partial else "board_refused.html", status_code=403)


def _board(services: Services, session: Session, zone: Zone) -> board_view.Board:
    return board_view.board(session, services.alerting.rules, services.emergency.plans, zone,
                            now_ms=services.now_ms())


@router.get("/board/fonts/cjk.ttf")
def cjk_font() -> Response:
    """Droid Sans Fallback for the board's Chinese text (the stylesheet asks for it for CJK characters only)."""
    return Response(_CJK_FONT.read_bytes(), media_type="font/ttf", headers={"Cache-Control": "max-age=86400"})


@router.get("/board/{code}", response_class=HTMLResponse)
def board_page(code: str, services: ServicesDep, session: SessionDep, k: TokenQ = "") -> HTMLResponse:
    zone = zone_of_token(session, code, k)
    if zone is None:
        return _refused()
    return render("board.html", b=_board(services, session, zone), k=k, now_ms=services.now_ms())


@router.get("/board/{code}/live", response_class=HTMLResponse)
def board_live(code: str, services: ServicesDep, session: SessionDep, k: TokenQ = "") -> HTMLResponse:
    zone = zone_of_token(session, code, k)
    if zone is None:
        return _refused(partial=True)
    return render("_board_live.html", b=_board(services, session, zone), now_ms=services.now_ms())


@router.get("/board/{code}/results", response_class=HTMLResponse)
def board_results(code: str, services: ServicesDep, session: SessionDep, k: TokenQ = "") -> HTMLResponse:
    zone = zone_of_token(session, code, k)
    if zone is None:
        return _refused(partial=True)
    results = board_view.latest_results(session, zone, services.health, now_ms=services.now_ms())
    return render("_board_results.html", results=results)


def _card(services: Services, session: Session, zone: Zone) -> Response:
    now = services.now_ms()
    results = board_view.latest_results(session, zone, services.health, now_ms=now)
    pdf = card_pdf(_board(services, session, zone), results, tz=services.health.tz, now_ms=now)
    return Response(pdf, media_type="application/pdf", headers={
        "Cache-Control": "no-store", "Content-Disposition": f'inline; filename="hazard-card-{zone.code}.pdf"'})


@router.get("/board/{code}/card.pdf")
def board_card(code: str, services: ServicesDep, session: SessionDep, k: TokenQ = "") -> Response:
    zone = zone_of_token(session, code, k)
    if zone is None:
        return _refused()
    return _card(services, session, zone)


@router.get("/zones/{code}/card.pdf")
def staff_card(code: str, services: ServicesDep, session: SessionDep, _: StaffDep) -> Response:
    zone = session.execute(select(Zone).where(Zone.code == code)).scalar_one_or_none()
    if zone is None:
        return render("board_refused.html", status_code=404, missing=code)
    return _card(services, session, zone)

"""Kiosk links to a zone's notice board in the API, for admins: create (the link and its token shown once),
list (never the tokens) and revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Request
from pydantic import BaseModel, Field

from server.accounts.auth import AdminDep
from server.services import ServicesDep, SessionDep
from server.web.board_links import BoardLinkError, BoardLinkInfo, create_link, list_links, revoke_link

router = APIRouter(tags=["board"])

ZoneP = Annotated[str, Path(min_length=1, max_length=64)]


class BoardLinkIn(BaseModel):
    label: str = Field(default="", max_length=128, description="where the screen hangs, for the list")


class BoardLinkOut(BaseModel):
    id: int
    zone: str
    label: str
    created_by: str
    created_ms: int
    revoked_ms: int | None


class NewBoardLink(BoardLinkOut):
    token: str = Field(description="shown once: the link stores only its hash")
    url: str = Field(description="the board's address with the token, for the kiosk's browser")


def _out(i: BoardLinkInfo) -> BoardLinkOut:
    return BoardLinkOut(id=i.id, zone=i.zone, label=i.label, created_by=i.created_by, created_ms=i.created_ms,
                        revoked_ms=i.revoked_ms)


@router.post("/zones/{zone}/board-links", status_code=201,
             summary="A read-only kiosk link to the zone's notice board; its token is shown once (admin)")
def new_board_link(request: Request, services: ServicesDep, session: SessionDep, admin: AdminDep, zone: ZoneP,
                   body: BoardLinkIn | None = None) -> NewBoardLink:
    try:
        info, token = create_link(session, zone, actor=f"user:{admin.name}", label=body.label if body else "",
                                  now_ms=services.now_ms())
    except BoardLinkError as exc:
        raise HTTPException(404, str(exc)) from None
    session.commit()
    url = str(request.url_for("board_page", code=info.zone).include_query_params(k=token))
    return NewBoardLink(**_out(info).model_dump(), token=token, url=url)


@router.get("/zones/{zone}/board-links", summary="The zone's kiosk links, revoked ones too; never a token (admin)")
def board_links(session: SessionDep, _: AdminDep, zone: ZoneP) -> list[BoardLinkOut]:
    try:
        return [_out(i) for i in list_links(session, zone)]
    except BoardLinkError as exc:
        raise HTTPException(404, str(exc)) from None


@router.delete("/zones/{zone}/board-links/{link_id}",
               summary="Revoke a kiosk link: the board it opened shows a refusal at its next refresh (admin)")
def revoke_board_link(services: ServicesDep, session: SessionDep, admin: AdminDep, zone: ZoneP,
                      link_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> BoardLinkOut:
    try:
        info = revoke_link(session, zone, link_id, actor=f"user:{admin.name}", now_ms=services.now_ms())
    except BoardLinkError as exc:
        raise HTTPException(404, str(exc)) from None
    session.commit()
    return _out(info)

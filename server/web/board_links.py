"""Kiosk links to a zone's notice board (`/board/<zone>/<token>`): an admin makes one (the token is shown once and
stored as its SHA-256 only) and revokes it; a link reads one zone's board and nothing else. Every creation and
revocation is audited."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import BigInteger, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from server.accounts.audit import audit
from server.accounts.credentials import new_token, token_hash
from server.db.base import Base
from server.org.models import Zone


class BoardLink(Base):
    """A read-only kiosk link to one zone's board (migration 0015_board_links)."""

    __tablename__ = "board_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    zone_id: Mapped[int] = mapped_column(ForeignKey("health_zones.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(128), default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    revoked_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


@dataclass(frozen=True)
class BoardLinkInfo:
    id: int
    zone: str
    label: str
    created_by: str
    created_ms: int
    revoked_ms: int | None


class BoardLinkError(LookupError):
    pass


def _info(link: BoardLink, zone: str) -> BoardLinkInfo:
    return BoardLinkInfo(link.id, zone, link.label, link.created_by, link.created_ms, link.revoked_ms)


def _zone(session: Session, code: str) -> Zone:
    zone = session.execute(select(Zone).where(Zone.code == code)).scalar_one_or_none()
    if zone is None:
        raise BoardLinkError(f"no zone {code}")
    return zone


def create_link(session: Session, code: str, *, actor: str, label: str, now_ms: int) -> tuple[BoardLinkInfo, str]:
    """A new link to the zone's board and its token (the only time the token exists outside the caller)."""
    zone = _zone(session, code)
    token = new_token("b")
    link = BoardLink(zone_id=zone.id, token_hash=token_hash(token), label=label[:128], created_by=actor[:64],
                     created_ms=now_ms)
    session.add(link)
    session.flush()
    audit(session, ts_ms=now_ms, actor=actor, action="board_link_create", target=f"zone:{zone.code}",
          detail=f"link={link.id}")
    return _info(link, zone.code), token


def list_links(session: Session, code: str) -> list[BoardLinkInfo]:
    zone = _zone(session, code)
    rows = session.execute(select(BoardLink).where(BoardLink.zone_id == zone.id).order_by(BoardLink.id)).scalars()
    return [_info(link, zone.code) for link in rows]


def revoke_link(session: Session, code: str, link_id: int, *, actor: str, now_ms: int) -> BoardLinkInfo:
    """Revoke at once: the next request with the link gets the refusal page. Revoking twice is refused."""
    zone = _zone(session, code)
    link = session.get(BoardLink, link_id)
    if link is None or link.zone_id != zone.id or link.revoked_ms is not None:
        raise BoardLinkError(f"no active board link {link_id} for zone {code}")
    link.revoked_ms = now_ms
    audit(session, ts_ms=now_ms, actor=actor, action="board_link_revoke", target=f"zone:{zone.code}",
          detail=f"link={link.id}")
    session.flush()
    return _info(link, zone.code)


def zone_of_token(session: Session, code: str, token: str) -> Zone | None:
    """The zone a valid, unrevoked link to `code`'s board opens; None for any other token."""
    if not token.startswith("hzm_b_"):
        return None
    row = session.execute(
        select(Zone).join(BoardLink, BoardLink.zone_id == Zone.id)
        .where(BoardLink.token_hash == token_hash(token), BoardLink.revoked_ms.is_(None), Zone.code == code)
    ).scalar_one_or_none()
    return row

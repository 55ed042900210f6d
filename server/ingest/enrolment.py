"""Enrolment: an admin makes a one-time code for a site (`hazmon server agent enroll-code`, POST
/api/v1/agents/enroll-codes); a site box exchanges it once for its agent token (`hazmon agent enroll`, the public
POST /api/v1/agents/enroll). Only a SHA-256 hash of a code is stored; a used or expired code is refused (410), an
unknown one too (403)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.accounts.audit import audit
from server.accounts.credentials import token_hash
from server.ingest.agents import check_agent_name, create_agent_token
from server.series.models import Agent, EnrolmentCode

#: no 0/O, 1/I/L: a code is read aloud and typed on a site box
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
MAX_EXPIRES_S = 30 * 24 * 3600
_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")


class EnrolmentRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


@dataclass(frozen=True)
class Enrolled:
    site: str
    agent: str
    token: str


def parse_duration(text: str) -> int:
    """`90s`, `30m`, `1h`, `2d` (a bare number is seconds) -> seconds; ValueError naming the text."""
    m = _DURATION.match(text)
    if m is None or int(m.group(1)) <= 0:
        raise ValueError(f"{text!r} is not a duration like 30m, 1h or 2d")
    seconds = int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if seconds > MAX_EXPIRES_S:
        raise ValueError(f"{text!r}: at most 30 days")
    return seconds


def normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def create_enrolment_code(session: Session, *, site: str, agent: str | None, expires_s: int, now_ms: int,
                          actor: str) -> str:
    """A new one-time code, shown once (`XXXX-XXXX-XXXX-XXXX`). AccountError for a bad site or agent name."""
    check_agent_name("site", site)
    if agent is not None:
        check_agent_name("agent", agent)
    if not 0 < expires_s <= MAX_EXPIRES_S:
        raise ValueError("expires: from 1 s to 30 days")
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    session.add(EnrolmentCode(code_hash=token_hash(raw), site=site, agent=agent, created_ms=now_ms,
                              created_by=actor, expires_ms=now_ms + expires_s * 1000))
    audit(session, ts_ms=now_ms, actor=actor, action="agent_enrolment_code_create",
          target=f"site:{site}" + (f"/{agent}" if agent else ""), detail=f"expires in {expires_s} s")
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def enrol(session: Session, *, code: str, agent: str | None, now_ms: int) -> Enrolled:
    """Exchange a code for a new agent token, exactly once. The agent's name is the code's, else the one the
    box asks for, else a new `gw-...` name. Raises EnrolmentRefused."""
    row = session.execute(
        select(EnrolmentCode).where(EnrolmentCode.code_hash == token_hash(normalise(code)))
    ).scalar_one_or_none()
    if row is None:
        raise EnrolmentRefused(403, "unknown enrolment code")
    if row.used_ms is not None:
        raise EnrolmentRefused(410, "enrolment code already used: ask for a new one "
                                    "(hazmon server agent enroll-code)")
    if row.expires_ms < now_ms:
        raise EnrolmentRefused(410, "enrolment code expired: ask for a new one (hazmon server agent enroll-code)")
    name = row.agent or agent or f"gw-{secrets.token_hex(3)}"
    try:
        check_agent_name("agent", name)
    except ValueError as exc:
        raise EnrolmentRefused(422, str(exc)) from None
    # the one exchange that flips used_ms wins, even when two boxes race with the same code
    claimed = session.execute(
        update(EnrolmentCode).where(EnrolmentCode.id == row.id, EnrolmentCode.used_ms.is_(None))
        .values(used_ms=now_ms)
    ).rowcount
    if claimed != 1:
        raise EnrolmentRefused(410, "enrolment code already used: ask for a new one "
                                    "(hazmon server agent enroll-code)")
    token = create_agent_token(session, site=row.site, agent=name, now_ms=now_ms, actor=f"enrolment:{row.id}",
                               label="enrolment")
    row.agent_id = session.execute(select(Agent.id).where(Agent.site == row.site, Agent.name == name)).scalar()
    audit(session, ts_ms=now_ms, actor=f"enrolment:{row.id}", action="agent_enrolled",
          target=f"agent:{row.site}/{name}")
    return Enrolled(site=row.site, agent=name, token=token)

"""What every CSV import shares (rosters, laboratory samples): the body read as UTF-8 text within its size limit,
and the row-by-row report of what was imported and what was wrong."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str


@dataclass(frozen=True)
class ImportReport:
    rows: int
    imported: int
    errors: tuple[RowError, ...]


async def csv_text(request: Request, *, limit: int, what: str) -> str:
    """The request's CSV body as text (a byte-order mark dropped): 413 above `limit` bytes, 422 if not UTF-8."""
    body = await request.body()
    if len(body) > limit:
        raise HTTPException(413, f"a {what} is at most {limit} bytes")
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HTTPException(422, f"the {what} must be UTF-8 CSV") from None

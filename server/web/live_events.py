"""GET /web/events: the operations pages' live stream (server-sent events). It says `change` when readings or
alerts moved: every `TICK_S` it compares a watermark read from the database (the newest latest value, the newest
audit entry: every alert transition is audited in its own transaction, server/alerts/service.py) and speaks only
when it moved; so it holds across server replicas. The page
refreshes its partials on `change`; the stream ends after `MAX_STREAM_S` and the browser reconnects (resuming from
the last watermark it saw), so a revoked session stops it. Authenticated like every data route."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from anyio import to_thread
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from sqlalchemy import func, select

from server.accounts.auth import StaffDep
from server.accounts.models import AuditEntry
from server.series.models import Latest
from server.services import Services, ServicesDep

router = APIRouter(include_in_schema=False)

TICK_S = 1.0
KEEPALIVE_S = 15.0
MAX_STREAM_S = 60.0
RETRY_MS = 2000
Watermark = tuple[int, int, int]


def watermark(services: Services) -> Watermark:
    with services.sessions() as session:
        latest_ts, latest_n = session.execute(select(func.max(Latest.ts), func.count())
                                              .select_from(Latest)).one()
        audit_id = session.execute(select(func.max(AuditEntry.id))).scalar()
    return int(latest_ts or 0), int(latest_n or 0), int(audit_id or 0)


def message(event: str, data: str, mark: Watermark) -> str:
    return f"id: {'.'.join(map(str, mark))}\nevent: {event}\ndata: {data}\n\n"


async def stream(request: Request, services: Services) -> AsyncIterator[str]:
    """`hello` first (`change` instead when the watermark moved since the Last-Event-ID the browser resends on
    reconnecting, so nothing is missed between two streams), then `change` whenever it moves."""
    seen = await to_thread.run_sync(watermark, services)
    resumed = request.headers.get("last-event-id", "")
    first = "change" if resumed and resumed != ".".join(map(str, seen)) else "hello"
    yield f"retry: {RETRY_MS}\n" + message(first, "live", seen)
    waited = quiet = 0.0
    while waited < MAX_STREAM_S and not await request.is_disconnected():
        await asyncio.sleep(TICK_S)
        waited += TICK_S
        quiet += TICK_S
        now = await to_thread.run_sync(watermark, services)
        if now != seen:
            seen, quiet = now, 0.0
            yield message("change", "readings or alerts", seen)
        elif quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": keep-alive\n\n"


@router.get("/web/events")
def live_events(request: Request, services: ServicesDep, _: StaffDep) -> StreamingResponse:
    return StreamingResponse(stream(request, services), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

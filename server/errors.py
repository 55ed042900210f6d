"""How the server answers and logs errors, app-wide: never a word of personal data in a log line.

- Any exception a route does not handle becomes a 500 JSON answer with a reference id; the log line holds only
  the reference, the method, the route template (never the path's values or the query string) and the exception
  type. The exception's message is never logged: a database error's message holds the SQL parameters and, on
  PostgreSQL, the row that failed (worker names, exam findings).
- A database integrity error (a duplicate, a reference to a record that does not exist, a required field left
  empty) becomes a 409 or 422 with a reason that names the constraint or column, never the values; a data error
  (a value out of the column's range) a 422.
- `safe_traceback(exc)` is what background tasks log instead of `log.exception`: exception types and code
  locations, no messages.
"""

from __future__ import annotations

import logging
import secrets
import traceback

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.counters import Counters

log = logging.getLogger(__name__)


def new_reference() -> str:
    return secrets.token_hex(6)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/api/v1/workers/{worker_id}`), or `unmatched`."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return "unmatched"
    # an included router's route knows only its own part: the prefix is the request path's leading segments
    # (static: an included router's prefix holds no values)
    segments = str(scope.get("path", "")).split("/")
    own = template.count("/")
    prefix = "/".join(segments[: max(len(segments) - own, 0)]) if ":path}" not in template else ""
    return prefix + template


def safe_traceback(exc: BaseException) -> str:
    """The exception chain as types and code locations only (file:line in function), no messages."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.extract_tb(current.__traceback__)[-6:]
        where = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}" for f in reversed(frames))
        parts.append(f"{type(current).__module__}.{type(current).__qualname__}" + (f" at {where}" if where else ""))
        current = current.__cause__ or current.__context__
    return "; caused by ".join(parts)


class ErrorBoundary:
    """Outermost ASGI middleware: an exception escaping the app is answered with a 500 and a reference, and
    logged without its message (and never re-raised, so no server logs a traceback with the message)."""

    def __init__(self, app: ASGIApp, *, counters: Counters) -> None:
        self.app = app
        self.counters = counters

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            ref = new_reference()
            self.counters.add("http_server_errors")
            log.error("unhandled error ref=%s %s %s: %s", ref, scope.get("method", ""), route_template(scope),
                      safe_traceback(exc))
            if started:  # the answer is already on its way: nothing more can be said
                return
            response = JSONResponse({"detail": f"internal server error (reference {ref})", "ref": ref},
                                    status_code=500)
            await response(scope, receive, send)


def _integrity_reason(exc: IntegrityError) -> tuple[int, str]:
    """409 for a duplicate, 422 for a missing reference, an empty required field or a failed check; the reason
    names the constraint or column (never a value)."""
    orig = exc.orig
    diag = getattr(orig, "diag", None)  # psycopg
    sqlstate = getattr(orig, "sqlstate", None) or ""
    name = ""
    if diag is not None:
        name = getattr(diag, "constraint_name", None) or getattr(diag, "column_name", None) or ""
    text = str(orig).lower() if diag is None else ""  # SQLite: "UNIQUE constraint failed: workers.employee_no"
    if sqlstate == "23505" or "unique constraint" in text:
        kind, status = "duplicates an existing record", 409
    elif sqlstate == "23503" or "foreign key" in text:
        kind, status = "refers to a record that does not exist (or is still referred to)", 422
    elif sqlstate == "23502" or "not null" in text:
        kind, status = "leaves a required field empty", 422
    else:
        kind, status = "breaks a data rule", 422
    if not name and diag is None and ":" in text:
        name = text.split(":", 1)[1].strip()  # SQLite names the table.column (never a value)
    return status, f"the request {kind}" + (f" ({name})" if name else "")


async def integrity_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, IntegrityError):
        status, reason = _integrity_reason(exc)
    else:  # DataError, OverflowError: a value a column or a calculation cannot hold, which the edge missed
        status, reason = 422, "a value is out of range or too long for its field"
    ref = new_reference()
    log.info("integrity error ref=%s %s %s -> %d", ref, request.method, route_template(request.scope), status)
    return JSONResponse({"detail": reason, "ref": ref}, status_code=status)


def install(app: FastAPI, *, counters: Counters) -> None:
    """The error handlers of the whole app."""
    app.add_exception_handler(IntegrityError, integrity_error)
    app.add_exception_handler(DataError, integrity_error)
    app.add_exception_handler(OverflowError, integrity_error)
    app.add_middleware(ErrorBoundary, counters=counters)

"""Bad input stops at the door, as a 4xx with one clear message (counted), never a 5xx from deeper down.

`RequestGuard`, an ASGI middleware in front of every route:
- a body larger than its route's limit is a 413 (read no further);
- a JSON body (content type `application/json`, `...+json`, or none and the body starts like JSON) is parsed
  strictly first
  (exposure.strict_json: depth, NaN and Infinity, integers outside 64 bits, numbers too large for a float, lone
  surrogates) and refused with a 422 naming the problem (a body that is not JSON at all goes on to the route,
  which answers its own 422). The ingest route parses its batches itself, as strictly,
  and counts its own refusals (server/ingest/service.py);
- a path segment or query value that is an integer outside the signed 64-bit range is a 422.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exposure import InvalidInput, strict_json
from server.counters import Counters

#: a JSON body of any route but those given their own limit
MAX_JSON_BYTES = 1024 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_INTEGER = re.compile(r"^[+-]?\d+$")


def out_of_int64(text: str) -> bool:
    if not _INTEGER.match(text):
        return False
    if len(text.lstrip("+-").lstrip("0")) > 19:  # before int(): Python refuses to convert very long digit strings
        return True
    return not strict_json.INT64_MIN <= int(text) <= strict_json.INT64_MAX


class RequestGuard:
    def __init__(self, app: ASGIApp, *, counters: Counters, limits: Mapping[str, int], other_max_bytes: int,
                 parsed_elsewhere: frozenset[str]) -> None:
        """`limits`: path -> most bytes of its body; `other_max_bytes`: the limit of a non-JSON body elsewhere;
        `parsed_elsewhere`: paths whose route parses (and refuses) its JSON itself."""
        self.app = app
        self.counters = counters
        self.limits = dict(limits)
        self.other_max_bytes = other_max_bytes
        self.parsed_elsewhere = parsed_elsewhere

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, counter: str,
                      detail: str) -> None:
        self.counters.add(counter)
        await JSONResponse({"detail": detail}, status_code=status)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        query = scope.get("query_string", b"").decode("latin-1")
        values = [*path.split("/"), *(v for _, v in parse_qsl(query, keep_blank_values=True))]
        if len(query) > 8192 or any(out_of_int64(v) for v in values):
            await self._refuse(scope, receive, send, 422, "http_rejected_input",
                               "an integer in the path or query is out of the 64-bit range")
            return
        if scope.get("method") not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        is_json = ctype in ("", "application/json") or ctype.endswith("+json")
        limit = self.limits.get(path, MAX_JSON_BYTES if is_json else self.other_max_bytes)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, 413, "http_rejected_too_large",
                               f"the body is larger than {limit} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._refuse(scope, receive, send, 413, "http_rejected_too_large",
                                   f"the body is larger than {limit} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        looks_json = ctype != "" or body.lstrip()[:1] in (b"{", b"[")  # no content type: JSON if it looks so
        if body and is_json and looks_json and path not in self.parsed_elsewhere:
            try:
                strict_json.loads(body)
            except InvalidInput as exc:
                if not exc.reason.startswith(strict_json.NOT_JSON):  # plain syntax errors: the route's own 422
                    await self._refuse(scope, receive, send, 422, "http_rejected_input",
                                       f"bad JSON body: {exc.reason}")
                    return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

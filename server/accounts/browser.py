"""Browser sessions' cookies: the `Secure` flag (HAZMON_COOKIE_SECURE: `auto` sets it when the request came over
TLS, directly or through a proxy that says so with X-Forwarded-Proto from an address uvicorn trusts; `always`;
`never`), and CSRF tokens for state-changing form posts (double submit: a random token in an HttpOnly SameSite
cookie and in the form, compared in constant time)."""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import parse_qs

from fastapi import Request, Response

CSRF_COOKIE = "hazmon_csrf"
CSRF_FIELD = "csrf"


def cookie_secure(request: Request, setting: str) -> bool:
    if setting == "always":
        return True
    if setting == "never":
        return False
    return request.url.scheme == "https"


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def set_csrf_cookie(request: Request, response: Response, token: str, *, setting: str, path: str) -> None:
    """The cookie half of a CSRF token (the form carries the other half as the hidden field `csrf`)."""
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", path=path,
                        secure=cookie_secure(request, setting), max_age=24 * 3600)


async def form_body(request: Request) -> bytes:
    """A dependency: the raw body of a form post (for `csrf_ok` in a synchronous route)."""
    return await request.body()


def csrf_ok(request: Request, body: bytes) -> bool:
    """The form's `csrf` field matches the cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    try:
        sent = parse_qs(body.decode("utf-8"), max_num_fields=20).get(CSRF_FIELD, [""])[0]
    except (UnicodeDecodeError, ValueError):
        return False
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())

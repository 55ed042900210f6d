"""Browser hardening: security headers on every answer (a CSP that allows no inline script or style), pages
whose scripts and styles are packaged files, /docs from packaged Swagger UI (no CDN), and the session cookie's
Secure flag under HAZMON_COOKIE_SECURE."""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
from fastapi.testclient import TestClient

from tests.kit.browser import INLINE_SCRIPT
from tests.kit.server import PASSWORD, build_app
from tests.server.api_kit import user_token

PAGES = ("/", "/alerts", "/incident", "/docs", "/workers", "/workers/W1", "/me")


def test_every_answer_carries_the_security_headers(client):
    """Pages, API answers and errors alike: CSP without 'unsafe-inline', nosniff, no referrer, no framing."""
    for path in (*PAGES, "/api/v1/health", "/api/v1/workers", "/no/such/page"):
        h = client.get(path).headers
        csp = h["content-security-policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer", path


def test_pages_have_no_inline_script_or_style_and_their_assets_are_served(client):
    """No <script> without src, no <style>, no style= or on...= attribute in a page; every /static file it links
    to is served, /docs included (Swagger UI from the fastapi-offline package, never a CDN)."""
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        text = page.text
        assert not re.search(INLINE_SCRIPT, text) and "<style" not in text, path
        assert not re.search(r"\s(style|on[a-z]+)=", text), path
        assert "http://" not in text and "https://" not in text, path  # nothing from elsewhere
        for asset in re.findall(r'(?:src|href)="(/(?:static|swagger)/[^"]+)"', text):
            r = client.get(asset)
            assert r.status_code == 200 and r.headers["content-type"].split(";")[0] in (
                "text/javascript", "text/css"), asset
    assert client.get("/static/../settings.py").status_code == 404
    assert client.get("/static/pages.py").status_code == 404


def test_templates_in_the_package_hold_no_inline_code():
    """The packaged HTML files themselves (what every page is served from)."""
    for f in (files("server.web")).iterdir():
        if f.name.endswith(".html"):
            text = f.read_text(encoding="utf-8")
            assert "<style" not in text and not re.search(INLINE_SCRIPT, text), f.name


@pytest.mark.parametrize(("setting", "base_url", "secure"), [
    ("auto", "http://testserver", False), ("auto", "https://testserver", True),
    ("always", "http://testserver", True), ("never", "https://testserver", False),
])
def test_the_session_cookie_is_secure_over_tls_or_when_configured(tmp_path, database_url, setting, base_url,
                                                                    secure):
    """HAZMON_COOKIE_SECURE=auto sets Secure when the request came over TLS; always and never force it."""
    app = build_app(tmp_path, database_url, cookie_secure=setting)
    with TestClient(app, base_url=base_url) as client:
        user_token(app, "chief", "safety_manager")
        r = client.post("/api/v1/auth/login", json={"username": "chief", "password": PASSWORD})
        cookie = r.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie
        assert ("Secure" in cookie) is secure

"""Kiosk links to a zone's notice board: admins create, list and revoke them; the token is shown once and opens
that zone's board only; a wrong or revoked link gets the refusal page; the hazard card is an A4 PDF in English
and Chinese with the Chinese font embedded."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from server import i18n
from server.accounts.models import AuditEntry
from server.settings import Settings
from server.web.board_view import windows
from tests.kit.server import session
from tests.server.api_kit import batch, bearer, now_ms, reading, user_token


@pytest.fixture
def zone(client, admin_headers, agent_headers) -> str:
    r = client.post("/api/v1/ingest", content=batch(1, [reading(value=7.5, ts=now_ms() - 1000)]),
                    headers=agent_headers)
    assert r.status_code == 200, r.text
    for path, payload in (("/zones", {"code": "tank-farm", "name": "Tank farm", "site": "plant-a"}),
                          ("/zones/tank-farm/sensors", {"sensor": "tank-3-gas", "site": "plant-a"}),
                          ("/zones/tank-farm/hazards", {"substance": "h2s"}),
                          ("/zones", {"code": "boiler", "name": "Boiler house", "site": "plant-a"})):
        r = client.post(f"/api/v1{path}", json=payload, headers=admin_headers)
        assert r.status_code in (200, 201), r.text
    return "tank-farm"


def _create(client, headers, code="tank-farm"):
    return client.post(f"/api/v1/zones/{code}/board-links", json={"label": "hall 2 screen"}, headers=headers)


def test_an_admin_creates_a_link_that_opens_the_board(client, admin_headers, zone):
    """The token is shown once, with the board's URL; the board shows the zone's level and hazards, no person."""
    r = _create(client, admin_headers)
    assert r.status_code == 201, r.text
    link = r.json()
    assert link["token"].startswith("hzm_b_") and link["url"].endswith(f"/board/tank-farm?k={link['token']}")
    page = client.get(f"/board/tank-farm?k={link['token']}")
    assert page.status_code == 200
    assert "Tank farm" in page.text and "Hydrogen sulfide" in page.text and "硫化氢" in page.text
    client.cookies.set(i18n.COOKIE, "zh-Hans")  # a kiosk's browser set to Chinese: the board in Chinese only
    zh = client.get(f"/board/tank-farm?k={link['token']}").text
    assert '<html lang="zh-Hans">' in zh and "<h2>危害因素</h2>" in zh and "<h3>硫化氢</h3>" in zh
    assert "Health effects" not in zh and "职业病危害告知 · plant-a" in zh
    assert "<h2>当前</h2>" in client.get(f"/board/tank-farm/live?k={link['token']}").text
    client.cookies.delete(i18n.COOKIE)
    live = client.get(f"/board/tank-farm/live?k={link['token']}")
    assert live.status_code == 200 and "7.50" in live.text
    listed = client.get("/api/v1/zones/tank-farm/board-links", headers=admin_headers).json()
    assert [(x["id"], x["label"], x["revoked_ms"]) for x in listed] == [(link["id"], "hall 2 screen", None)]
    assert "token" not in listed[0]


def test_a_revoked_or_wrong_link_gets_the_refusal_page(app, client, admin_headers, zone):
    """After revocation (audited, like the creation) the same link answers 403 with a readable page."""
    link = _create(client, admin_headers).json()
    r = client.delete(f"/api/v1/zones/tank-farm/board-links/{link['id']}", headers=admin_headers)
    assert r.status_code == 200 and r.json()["revoked_ms"] is not None
    for path in ("/board/tank-farm", "/board/tank-farm/live", "/board/tank-farm/results", "/board/tank-farm/card.pdf"):
        refused = client.get(f"{path}?k={link['token']}")
        assert refused.status_code == 403 and "not valid" in refused.text, path
    assert client.get("/board/tank-farm?k=hzm_b_wrong").status_code == 403
    assert client.get("/board/tank-farm").status_code == 403
    assert client.delete(f"/api/v1/zones/tank-farm/board-links/{link['id']}", headers=admin_headers).status_code == 404
    with session(app) as s:
        actions = [a for (a,) in s.execute(select(AuditEntry.action).where(AuditEntry.action.like("board_link_%")))]
    assert actions == ["board_link_create", "board_link_revoke"]


def test_a_link_opens_its_own_zone_only(client, admin_headers, zone):
    """A token made for one zone does not open another zone's board."""
    link = _create(client, admin_headers).json()
    assert client.get(f"/board/boiler?k={link['token']}").status_code == 403


@pytest.mark.parametrize("role", ["safety_manager", "facilities", "record_keeper", "auditor", "worker"])
def test_only_an_admin_manages_board_links(app, client, admin_headers, zone, role):
    """Every other role gets 403 on create, list and revoke."""
    link = _create(client, admin_headers).json()
    h = bearer(user_token(app, f"u-{role}", role))
    assert _create(client, h).status_code == 403
    assert client.get("/api/v1/zones/tank-farm/board-links", headers=h).status_code == 403
    assert client.delete(f"/api/v1/zones/tank-farm/board-links/{link['id']}", headers=h).status_code == 403


def test_an_unknown_zone_is_a_404(client, admin_headers, zone):
    """Creating or listing links of a zone that does not exist answers 404 with one line."""
    r = _create(client, admin_headers, code="nowhere")
    assert r.status_code == 404 and r.json()["detail"] == "no zone nowhere"


def test_the_hazard_card_is_two_a4_pages_in_english_and_chinese(app, client, admin_headers, zone):
    """The card has an English and a Chinese page with the same hazard, and embeds the CJK font."""
    link = _create(client, admin_headers).json()
    r = client.get(f"/board/tank-farm/card.pdf?k={link['token']}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    pdf = PdfReader(io.BytesIO(r.content))
    assert len(pdf.pages) == 2
    assert [round(float(x)) for x in pdf.pages[0].mediabox[2:]] == [595, 842]
    en, zh = (p.extract_text() for p in pdf.pages)
    assert "Hazard notification card" in en and "Hydrogen sulfide" in en
    assert "职业病危害告知卡" in zh and "硫化氢" in zh
    fonts = {str(f["/BaseFont"]) for p in pdf.pages for f in p["/Resources"]["/Font"].values()}
    assert any(f.endswith("+DroidSansFallback") for f in fonts), fonts  # embedded as a subset
    staff = client.get("/zones/tank-farm/card.pdf", headers=bearer(user_token(app, "fac", "facilities")))
    assert staff.status_code == 200 and staff.content[:5] == b"%PDF-"
    assert client.get("/zones/tank-farm/card.pdf").status_code == 401


def test_the_results_windows_are_today_yesterday_and_the_latest_shifts(tmp_path):
    """Days end now (today so far); a shift that has not started yet is left out, one running ends now."""
    config = Settings(data_dir=tmp_path).health
    now = int(dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC).timestamp() * 1000)
    days, shifts = windows([("day", "07:00", 8), ("night", "19:00", 12)], config, now_ms=now)
    assert [d[0] for d in days] == ["2026-12-04", "2026-12-03"] and days[0][2] == now
    assert [s[0] for s in shifts] == ["2026-12-04 day 07:00", "2026-12-03 night 19:00", "2026-12-03 day 07:00"]
    assert shifts[0][2] == now

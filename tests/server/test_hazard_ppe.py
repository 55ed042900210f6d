"""The PPE a site requires against a declared hazard: the org API takes and returns it (declaring the hazard
again updates it); the zone page shows it as the site's requirement and the notice board as what to wear here;
a hazard without one shows the general guidance of hazard_notes.toml, labelled so."""

from __future__ import annotations

import pytest

from tests.server.api_kit import batch, bearer, now_ms, reading, user_token

H2S_PPE = "Personal H2S monitor at the collar; escape set on the belt."


@pytest.fixture
def zone(client, admin_headers, agent_headers) -> str:
    r = client.post("/api/v1/ingest", content=batch(1, [reading(value=2.0, ts=now_ms() - 1000)]),
                    headers=agent_headers)
    assert r.status_code == 200, r.text
    for path, payload in (("/zones", {"code": "tank-farm", "name": "Tank farm", "site": "plant-a"}),
                          ("/zones/tank-farm/sensors", {"sensor": "tank-3-gas", "site": "plant-a"}),
                          ("/zones/tank-farm/hazards", {"substance": "h2s", "ppe": "  ear muffs  "}),
                          ("/zones/tank-farm/hazards", {"substance": "co"})):
        r = client.post(f"/api/v1{path}", json=payload, headers=admin_headers)
        assert r.status_code == 201, r.text
    return "tank-farm"


def test_the_api_takes_returns_and_updates_the_required_ppe(client, admin_headers, zone):
    """`ppe` is returned beside the old keys; declaring the hazard again updates it instead of adding a row."""
    r = client.post("/api/v1/zones/tank-farm/hazards", json={"substance": "h2s", "ppe": H2S_PPE},
                    headers=admin_headers)
    assert r.status_code == 201, r.text
    hazards = client.get("/api/v1/zones/tank-farm", headers=admin_headers).json()["hazards"]
    assert hazards == [{"substance": "co", "quantity": "co", "post": None, "variant": None, "ppe": None},
                       {"substance": "h2s", "quantity": "h2s", "post": None, "variant": None, "ppe": H2S_PPE}]
    too_long = client.post("/api/v1/zones/tank-farm/hazards", json={"substance": "co", "ppe": "x" * 501},
                           headers=admin_headers)
    assert too_long.status_code == 422


def test_the_zone_page_and_the_board_show_the_sites_ppe_or_the_general_guidance(app, client, admin_headers, zone):
    """h2s (declared) shows the site's requirement; co (not declared) the general guidance, labelled."""
    client.post("/api/v1/zones/tank-farm/hazards", json={"substance": "h2s", "ppe": H2S_PPE}, headers=admin_headers)
    part = client.get("/web/partials/zones/tank-farm", headers=bearer(user_token(app, "chief", "safety_manager")))
    assert part.status_code == 200, part.text
    assert f"Required PPE (site requirement):</b> {H2S_PPE}" in part.text
    assert "PPE, general guidance:</b> Personal CO monitor" in part.text
    link = client.post("/api/v1/zones/tank-farm/board-links", json={}, headers=admin_headers).json()
    board = client.get(f"/board/tank-farm?k={link['token']}")
    assert board.status_code == 200
    assert f"Required here · 本岗位要求</b> {H2S_PPE}" in board.text
    assert "Wear (general guidance)</b> Personal CO monitor" in board.text
    assert "Personal H2S monitor; supplied-air" not in board.text  # the site's requirement wins
    card = client.get(f"/board/tank-farm/card.pdf?k={link['token']}")
    assert card.status_code == 200 and card.headers["content-type"] == "application/pdf"

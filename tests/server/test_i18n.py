"""English and Simplified Chinese: every visible string of the pages is marked for translation and translated in
the catalogue (scripts/i18n.py check), and a user's language follows them: their own choice (stored, set at
sign-in), else the site's (HAZMON_LANGUAGE)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from scripts import i18n as catalogue
from server import i18n
from tests.kit.server import PASSWORD, build_app
from tests.server.api_kit import bearer, user_token

PENDING = frozenset(line for line in (Path(__file__).parent / "i18n_pending.txt").read_text().splitlines()
                    if line and not line.startswith("#"))


def _done(problems: list[str]) -> list[str]:
    return [p for p in problems if p.split(":")[0] not in PENDING]


def test_every_visible_string_of_the_templates_is_marked() -> None:
    """Text between tags, the attributes people read and the words a `{{ }}` prints are all inside _(),
    ngettext() or {% trans %}: an English word left bare fails here with its template and line."""
    assert _done(catalogue.template_problems()) == []


def test_every_message_a_page_module_hands_to_a_template_is_marked() -> None:
    assert _done(catalogue.python_problems()) == []


def test_the_pending_list_only_names_what_is_still_pending() -> None:
    """A template or module marked since is struck off tests/server/i18n_pending.txt (the list only shrinks)."""
    pending = {p.split(":")[0] for p in catalogue.template_problems() + catalogue.python_problems()}
    assert sorted(PENDING - pending) == []


def test_every_marked_string_has_a_chinese_translation() -> None:
    """The catalogue holds every marked string (templates, Python, the pages' scripts), each translated, none
    fuzzy, with the same %(name)s placeholders as its source."""
    assert catalogue.catalogue_problems("zh_Hans") == []


def test_the_scanner_finds_bare_english(tmp_path: Path) -> None:
    """The scanner itself: each kind of unmarked text is found, marked text and code are not."""
    page = tmp_path / "page.html"
    page.write_text('<h1>Workers</h1><p title="Hover text">{{ _("Marked") }}</p>\n'
                    '<input type="submit" value="Save"><a class="btn-{{ kind }}" href="/x">{{ n }}</a>\n'
                    '<p>{{ "yours" if own else "theirs" }} {{ x or "none" }} {{ w.status|label }}</p>\n'
                    '{% trans %}Also marked{% endtrans %}<span>{{ value|num }} ppm</span>\n'
                    '<td>{{ "-" }}</td><p>hazmon · TWA 8 h</p>', encoding="utf-8")
    found = sorted(u.text for u in catalogue.unmarked(page))
    assert found == ["Workers", "none", "theirs", "title=Hover text", "value=Save", "yours"]


@pytest.fixture
def client(tmp_path: Path, database_url: str):
    app = build_app(tmp_path, database_url)
    with TestClient(app) as c:
        c.app_ref = app  # type: ignore[attr-defined]
        yield c


def _login(client: TestClient, name: str) -> dict:
    r = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()


def test_a_users_choice_of_language_is_kept_and_follows_them(client: TestClient) -> None:
    user_token(client.app_ref, "li", "record_keeper")  # type: ignore[attr-defined]
    assert _login(client, "li")["language"] == "en"  # the site's: nobody chose
    assert client.cookies.get(i18n.COOKIE) == "en"
    page = client.get("/").text
    assert '<html lang="en">' in page and ">Sign in</h1>" in page

    r = client.put("/api/v1/auth/language", json={"language": "zh-Hans"})
    assert r.status_code == 200 and r.json() == {"name": "li", "role": "record_keeper", "language": "zh-Hans",
                                                 "chosen": True}
    page = client.get("/").text
    assert '<html lang="zh-Hans">' in page and ">登录</h1>" in page and ">劳动者</a>" in page
    scripts = json.loads(re.search(r'<script type="application/json" id="hazmon-i18n">(.*?)</script>', page,
                                   re.S).group(1))  # type: ignore[union-attr]
    assert "请先登录。" in scripts.values()  # the scripts' messages come with the page, in its language

    client.cookies.clear()  # another browser: the stored choice comes back at sign-in
    assert _login(client, "li")["language"] == "zh-Hans"
    assert client.get("/api/v1/auth/me").json()["language"] == "zh-Hans"
    assert ">登录</h1>" in client.get("/").text

    assert client.put("/api/v1/auth/language", json={"language": "fr"}).status_code == 422
    assert client.put("/api/v1/auth/language", json={"language": None}).json()["chosen"] is False
    assert client.cookies.get(i18n.COOKIE) == "en"


def test_the_sites_language_is_the_default(tmp_path: Path, database_url: str) -> None:
    app = build_app(tmp_path, database_url, language="zh-Hans")
    with TestClient(app) as c:
        assert '<html lang="zh-Hans">' in c.get("/").text
        c.cookies.set(i18n.COOKIE, "en")
        assert '<html lang="en">' in c.get("/").text
        c.cookies.set(i18n.COOKIE, "xx")  # not a language: the site's
        assert '<html lang="zh-Hans">' in c.get("/").text
        token = user_token(app, "wang", "worker")
        me = c.get("/api/v1/auth/me", headers=bearer(token)).json()
        assert (me["language"], me["chosen"]) == ("zh-Hans", False)

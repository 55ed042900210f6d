"""Languages: English, the source text, and Simplified Chinese, for every page, message and PDF.

The catalogues are gettext `.po` files under server/locale/<locale>/LC_MESSAGES/messages.po, kept by Babel
(`python -m scripts.i18n update` extracts every marked string from the templates, the Python and the scripts and
merges it in; `python -m scripts.i18n check` fails on a string without a translation, and so does
tests/server/test_i18n.py). They are compiled in memory on first use: no generated `.mo` in the tree.

A request's language is its `hazmon_lang` cookie (set at sign-in from the user's own choice, `users.language`, and
when they change it) or, without one, the site's (HAZMON_LANGUAGE). `LanguageMiddleware` puts it in a context
variable that the templates' `_()` and `{% trans %}`, the PDFs and the pages' messages read; code outside a request
(a scheduled report) picks one with `using(lang)`.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from io import BytesIO
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

#: the languages a user may choose, by BCP 47 tag, each named in itself
LANGUAGES: dict[str, str] = {"en": "English", "zh-Hans": "简体中文"}
SOURCE = "en"
COOKIE = "hazmon_lang"

_current: ContextVar[str] = ContextVar("hazmon_language", default=SOURCE)


def locale_dir(lang: str) -> str:
    """The catalogue directory of a language tag: zh-Hans -> zh_Hans (Babel's and gettext's spelling)."""
    return lang.replace("-", "_")


@dataclass(frozen=True)
class Catalogue:
    translations: _gettext.NullTranslations
    #: the strings the pages' scripts show (msgid -> text), sent with each page (server/web/static/hazmon.js `t`)
    scripts: dict[str, str]


@cache
def catalogue(lang: str) -> Catalogue:
    if lang == SOURCE or lang not in LANGUAGES:
        return Catalogue(_gettext.NullTranslations(), {})
    po = files("server") / "locale" / locale_dir(lang) / "LC_MESSAGES" / "messages.po"
    with po.open("rb") as f:
        cat = read_po(f, locale=locale_dir(lang))
    mo = BytesIO()
    write_mo(mo, cat, use_fuzzy=False)
    mo.seek(0)
    scripts = {str(m.id): str(m.string) for m in cat
               if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
               and any(path.endswith(".js") for path, _line in m.locations)}
    return Catalogue(_gettext.GNUTranslations(mo), scripts)


def current() -> str:
    """The language of the request (or `using` block) being served."""
    return _current.get()


def translate(message: str) -> str:
    """`message` in the current language (itself when it has no translation)."""
    return catalogue(current()).translations.gettext(message)


def ntranslate(singular: str, plural: str, n: int) -> str:
    return catalogue(current()).translations.ngettext(singular, plural, n)


def _(message: str, **values: Any) -> str:
    """Python's marker and translator: `_("%(n)s rows imported", n=3)`, formatted after translation."""
    text = translate(message)
    return text % values if values else text


def N_(message: str) -> str:
    """Marks a string for the catalogue where it is defined; it is translated where it is shown (`_(value)`)."""
    return message


def NP_(context: str, message: str) -> tuple[str, str]:
    """`N_` with a context, for a word that two places translate differently ("active": a worker, an alert)."""
    return context, message


def ptranslate(context: str, message: str) -> str:
    return catalogue(current()).translations.pgettext(context, message)


def script_messages() -> dict[str, str]:
    """The scripts' strings in the current language (empty for English, the scripts' own text)."""
    return catalogue(current()).scripts


def choose(cookie: str | None, default: str) -> str:
    return cookie if cookie in LANGUAGES else default


@contextmanager
def using(lang: str) -> Iterator[None]:
    token = _current.set(lang if lang in LANGUAGES else SOURCE)
    try:
        yield
    finally:
        _current.reset(token)


class LanguageMiddleware:
    """Sets the language of each HTTP request: its `hazmon_lang` cookie when it names a known language, otherwise
    the site's. Route handlers run in a copy of this context (threads included), so they all see it."""

    def __init__(self, app: ASGIApp, *, default: str) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with using(choose(HTTPConnection(scope).cookies.get(COOKIE), self.default)):
            await self.app(scope, receive, send)

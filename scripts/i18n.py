"""The translation catalogues (server/locale/*/LC_MESSAGES/messages.po), kept with Babel.

    .venv/bin/python -m scripts.i18n update   # extract every marked string and merge it into each catalogue
    .venv/bin/python -m scripts.i18n check    # exit 1 and list what is untranslated (the test does the same)
    .venv/bin/python -m scripts.i18n fill zh.json other.po   # take translations from files ({"msgid": "msgstr"})

Marked strings: `_()`, `N_()`, `ngettext()` in server/**/*.py; `_()`, `ngettext()` and `{% trans %}` in the
templates; `t()` in the pages' scripts (server/web/static/*.js). `check` also scans the templates for visible text
that is not marked at all: text between tags, the attributes people read (title, aria-label, placeholder, alt, a
button's value) and string literals printed by `{{ ... }}`. After `update`, translate each new entry (msgstr) by
hand; an entry Babel guessed from a similar one is marked fuzzy and counts as untranslated until checked.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po, write_po
from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "server"
TEMPLATES = SERVER / "web" / "templates"
SCRIPTS = SERVER / "web" / "static"
LOCALES = ("zh_Hans",)
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}


def po_path(locale: str) -> Path:
    return SERVER / "locale" / locale / "LC_MESSAGES" / "messages.po"


def _sources() -> Iterator[tuple[str, Path, dict[str, str]]]:
    for path in sorted(SERVER.rglob("*.py")):
        if "migrations" not in path.parts:
            yield "python", path, {}
    for path in sorted(TEMPLATES.rglob("*.html")):
        yield "jinja2.ext:babel_extract", path, JINJA_OPTIONS
    for path in sorted(SCRIPTS.glob("*.js")):
        yield "javascript", path, {}


#: fixed header dates: an update changes the catalogue only where the strings changed
HEADER = {"project": "hazmon", "version": "1", "copyright_holder": "the hazmon authors",
          "msgid_bugs_address": "", "last_translator": "the hazmon authors", "language_team": "",
          "creation_date": dt.datetime(2026, 12, 4, tzinfo=dt.UTC),
          "revision_date": dt.datetime(2026, 12, 4, tzinfo=dt.UTC), "fuzzy": False}


def extract() -> Catalog:
    """Every marked string of the sources, with where it is used."""
    template = Catalog(**HEADER)  # type: ignore[arg-type]
    for method, path, options in _sources():
        keywords = {"t": None} if method == "javascript" else {**DEFAULT_KEYWORDS, "NP_": ((1, "c"), 2)}
        for lineno, message, _comments, context in extract_from_file(method, str(path), keywords=keywords,
                                                                     options=options):
            if message:
                template.add(message, locations=[(str(path.relative_to(ROOT)), lineno)], context=context)
    return template


def load(locale: str) -> Catalog:
    with po_path(locale).open("rb") as f:
        return read_po(f, locale=locale)


def update() -> None:
    template = extract()
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            catalog = load(locale)
            catalog.update(template, no_fuzzy_matching=True)
            catalog.obsolete.clear()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, **HEADER)  # type: ignore[arg-type]
            catalog.update(template, no_fuzzy_matching=True)
        catalog.revision_date = HEADER["revision_date"]  # type: ignore[assignment]
        catalog.fuzzy = False
        with path.open("wb") as f:
            write_po(f, catalog, width=0, sort_output=True, include_previous=False, include_lineno=False)
        print(f"{path.relative_to(ROOT)}: {len(catalog)} messages, {len(untranslated(catalog))} to translate")


def _key(m: object) -> str:
    """A message's key in a JSON translations file: its msgid (a plural's singular), after "context\x04" (the
    gettext convention) when it has a context."""
    msgid = m.id if isinstance(m.id, str) else m.id[0]  # type: ignore[attr-defined]
    return f"{m.context}\x04{msgid}" if m.context else msgid  # type: ignore[attr-defined]


def fill(locale: str, sources: list[Path]) -> None:
    """Take translations for this catalogue's untranslated entries from other catalogues (.po, a branch's) or
    from JSON files ({"msgid": "msgstr"}, "context\x04msgid" for an entry with a context, a list of forms or one
    string for a plural); an entry already translated here is kept."""
    catalog = load(locale)
    known: dict[str, str | tuple[str, ...]] = {}
    for source in sources:
        if source.suffix == ".json":
            known.update({k: tuple(v) if isinstance(v, list) else v
                          for k, v in json.loads(source.read_text(encoding="utf-8")).items() if v})
        else:
            with source.open("rb") as f:
                known.update({_key(m): m.string for m in read_po(f) if m.id and m.string and not m.fuzzy
                              and all(m.string if isinstance(m.string, tuple) else (m.string,))})
    filled = 0
    for m in catalog:
        if not m.id or m.id == "":
            continue
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if all(strings) and not m.fuzzy:
            continue
        found = known.get(_key(m))
        if found is None:
            continue
        if isinstance(m.id, tuple):  # a plural: as many forms as the language has (Chinese: one)
            forms = found if isinstance(found, tuple) else (found,)
            m.string = tuple(forms[min(i, len(forms) - 1)] for i in range(catalog.num_plurals))
        else:
            m.string = found if isinstance(found, str) else found[0]
        m.flags -= {"fuzzy"}
        filled += 1
    with po_path(locale).open("wb") as f:
        write_po(f, catalog, width=0, sort_output=True, include_previous=False, include_lineno=False)
    print(f"{po_path(locale).relative_to(ROOT)}: {filled} filled, {len(untranslated(catalog))} to translate")


def untranslated(catalog: Catalog) -> list[str]:
    out = []
    for m in catalog:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy or not all(strings):
            out.append(m.id if isinstance(m.id, str) else m.id[0])
    return out


def catalogue_problems(locale: str) -> list[str]:
    """What the catalogue lacks: a marked string with no entry (run `update`), an entry without a translation, a
    translation whose %(name)s placeholders differ from its source's."""
    catalog = load(locale)
    problems = [f"{locale}: not in the catalogue (run update): {m.id!r}" for m in extract()
                if m.id and catalog.get(m.id, context=m.context) is None]
    problems += [f"{locale}: untranslated: {msgid!r}" for msgid in untranslated(catalog)]
    for m in catalog:
        if m.id and m.string:
            ids = m.id if isinstance(m.id, tuple) else (m.id,)
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            want = set(re.findall(r"%\(\w+\)s", ids[-1]))
            for s in strings:
                if set(re.findall(r"%\(\w+\)s", s)) != want:
                    problems.append(f"{locale}: placeholders differ: {ids[0]!r} -> {s!r}")
    return problems


# -- visible text that is not marked at all ------------------------------------------------------------------

#: attributes whose text people read or hear
READ_ATTRS = frozenset({"title", "aria-label", "placeholder", "alt", "aria-description", "data-confirm", "label"})
HOLE = "\x00"
LETTERS = re.compile(r"[A-Za-z]+")
#: words that are the same in every language: the product, formats, units, the standards' own abbreviations
KEEP = frozenset({"hazmon", "CSV", "PDF", "JSON", "TWA", "STEL", "LEX", "ppm", "mg", "dB", "MQTT", "API", "ID",
                  "URL", "SEG", "SEGs", "EN", "GBZ", "OSHA", "NIOSH", "PEL", "REL", "OEL", "LoQ", "UTC", "SiO", "h",
                  "min", "ms", "GSD", "GM", "UCL", "UTL", "HTTP", "TOML", "SMTP", "LEL", "TLV", "ACGIH", "CO", "NO",
                  "SO", "NH", "HCN", "Cl", "PM"})


def _words(text: str) -> bool:
    """Whether `text` holds a word that a reader of another language needs translated."""
    return any(w not in KEEP for w in LETTERS.findall(text.replace(HOLE, " ")))


#: filters and methods whose string arguments name attributes or split text, never print
ARGUMENTS = ("selectattr", "rejectattr", "map", "attribute", "sort", "groupby", "sum", "split", "replace", "join",
             "startswith", "endswith", "get", "format", "strftime", "label")

#: string literals that print as code, not words: identifiers, CSS classes, paths, formats
CODE = re.compile(r"^[a-z0-9_.:/#%\-\s]*$")


@dataclass(frozen=True)
class Unmarked:
    template: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: unmarked text {self.text!r}"


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        kinds = dict(attrs)
        for name, value in attrs:
            readable = name in READ_ATTRS or (name == "value" and kinds.get("type") in ("submit", "button", "reset"))
            if readable and value and _words(value):
                self.found.append((self.getpos()[0], f"{name}={value.replace(HOLE, '…')}"))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and _words(data):
            self.found.append((self.getpos()[0], data.replace(HOLE, "…").strip()))


def _printed_literals(tokens: list[tuple[int, str, str]]) -> Iterator[tuple[int, str]]:
    """String literals a `{{ ... }}` prints as words: not inside _(), gettext() or ngettext(), not compared, not
    code (an identifier, a path) unless a conditional chooses it as the printed text."""
    calls: list[str] = []
    significant = [(ln, k, v) for ln, k, v in tokens if k != "whitespace"]
    for i, (line, kind, value) in enumerate(significant):
        before = significant[i - 1][2] if i else ""
        after = significant[i + 1][2] if i + 1 < len(significant) else ""
        if kind == "operator" and value == "(":
            calls.append(before)
        elif kind == "operator" and value == ")" and calls:
            calls.pop()
        elif kind == "string":
            value = value[1:-1]  # the lexer keeps the quotes
            if any(c in ("_", "gettext", "ngettext", *ARGUMENTS) for c in calls) or "==" in (before, after) or \
                    "!=" in (before, after) or after == "in" or before == "in":
                continue
            chosen = bool({"if", "else", "or"} & {before, after}) or (calls[-1:] == ["default"])
            if (CODE.match(value) and not chosen) or (not _words(value) and not chosen):
                continue
            if not _words(value):  # "-", "", "·": punctuation reads the same everywhere
                continue
            yield line, value


def _attribute(html_so_far: str) -> str | None:
    """The attribute a `{{ }}` at the end of this HTML is printed in ("" between the tags, None inside a tag but
    not in a value)."""
    tail = html_so_far[html_so_far.rfind(">") + 1:]
    if "<" not in tail:
        return ""
    m = re.search(r"([\w:-]+)=\"[^\"]*$", tail)
    return m.group(1) if m else None


def unmarked(path: Path) -> list[Unmarked]:
    """The visible English of a template outside `_()`, `ngettext()` and `{% trans %}`."""
    env = Environment(extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    source = path.read_text(encoding="utf-8")
    html: list[str] = []
    expr: list[tuple[int, str, str]] = []
    in_trans = in_var = False
    block: list[str] = []
    found: list[Unmarked] = []
    for line, kind, value in env.lex(source):
        if kind == "block_begin":
            block = []
        elif kind == "block_end":
            name = block[0] if block else ""
            in_trans = name == "trans" or (in_trans and name != "endtrans")
            html.append(HOLE)
        elif kind == "name" and not in_var:
            block.append(value)
        if kind == "variable_begin":
            in_var, expr = True, []
        elif kind == "variable_end":
            in_var = False
            where = _attribute("".join(html))
            if not in_trans and (where == "" or where in READ_ATTRS):
                found += [Unmarked(path.name, ln, v) for ln, v in _printed_literals(expr)]
            html.append(HOLE)
        elif in_var:
            expr.append((line, kind, value))
        elif kind == "data":
            html.append(HOLE if in_trans else value)
    parser = _Visible()
    parser.feed("".join(html))
    parser.close()
    # HTMLParser counts lines of the joined text, which keeps every data token's newlines: close to the source
    found += [Unmarked(path.name, line, text) for line, text in parser.found]
    return found


def _literal_words(node: ast.AST) -> Iterator[tuple[int, str]]:
    """Unmarked English in an expression passed to a page: string literals and f-strings outside _() / N_()."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "N_", "ngettext"):
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _words(node.value) and not CODE.match(
            node.value):
        yield node.lineno, node.value
        return
    if isinstance(node, ast.JoinedStr):
        text = "".join(v.value if isinstance(v, ast.Constant) else HOLE for v in node.values)
        if _words(text):
            yield node.lineno, text.replace(HOLE, "{…}")
        return
    if isinstance(node, ast.Call):  # a function computing what is shown: its arguments are data, not text
        return
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, ast.Compare):
            yield from _literal_words(child)


def python_problems() -> list[str]:
    """Visible text handed to a template by `render(...)` without `_()`."""
    problems = []
    for path in sorted(SERVER.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "render":
                for kw in node.keywords:
                    for line, text in _literal_words(kw.value):
                        problems.append(f"{path.relative_to(ROOT)}:{line}: unmarked text {text!r} ({kw.arg}=)")
    return problems


def template_problems() -> list[str]:
    return [str(u) for path in sorted(TEMPLATES.rglob("*.html")) for u in unmarked(path)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.i18n", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("update", "check", "fill"))
    parser.add_argument("sources", nargs="*", type=Path, help="fill: .po or .json files to take translations from")
    parser.add_argument("--locale", default=LOCALES[0])
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
        return 0
    if args.command == "fill":
        fill(args.locale, args.sources)
        return 0
    problems = template_problems() + python_problems() + [p for locale in LOCALES for p in catalogue_problems(locale)]
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

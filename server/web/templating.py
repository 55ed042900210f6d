"""The pages' Jinja2 templates (server/web/templates), one environment built on first use, and the filters they
share (times in the site's time zone, numbers).

Times are shown in the site's zone (HAZMON_HEALTH_TIMEZONE, `use_site_zone` at app start; UTC until then) with the
zone's abbreviation at that instant (CST, CET/CEST ...), so a summer and a winter time each say which they are."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape

from server import i18n
from server.web.labels import label

_site = {"zone": ZoneInfo("UTC")}


def use_site_zone(name: str) -> None:
    """The zone every page shows times in (the app calls it once with HAZMON_HEALTH_TIMEZONE)."""
    _site["zone"] = ZoneInfo(name)


def site_zone() -> ZoneInfo:
    return _site["zone"]


def local(ms: int) -> dt.datetime:
    """A time in ms as an aware datetime in the site's zone."""
    return dt.datetime.fromtimestamp(ms / 1000, site_zone())


def zone_abbr(ms: int | None = None) -> str:
    """The site zone's abbreviation at `ms` (now when None): CST, CEST, UTC; the offset when the zone has none."""
    t = local(ms) if ms is not None else dt.datetime.now(site_zone())
    name = t.tzname() or ""
    return name if name and name[0] not in "+-" else t.strftime("UTC%z")


def clock(ms: int | None) -> str:
    """HH:MM:SS in the site's zone of a time in ms (empty for None; the zone is on the page, `zone_abbr`)."""
    if ms is None:
        return ""
    return local(ms).strftime("%H:%M:%S")


def stamp(ms: int | None) -> str:
    """YYYY-MM-DD HH:MM and the zone's abbreviation, in the site's zone (empty for None)."""
    if ms is None:
        return ""
    return local(ms).strftime("%Y-%m-%d %H:%M ") + zone_abbr(ms)


def hm(ms: int | None) -> str:
    """HH:MM in the site's zone of a time in ms (empty for None)."""
    return "" if ms is None else local(ms).strftime("%H:%M")


def day(ms: int | None) -> str:
    """YYYY-MM-DD of a time in ms, in the site's zone."""
    return "" if ms is None else local(ms).strftime("%Y-%m-%d")


def num(v: float | None) -> str:
    """A reading as the pages show it: integers bare, small values with two decimals, others with one."""
    if v is None:
        return "-"
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.2f}" if abs(v) < 10 else f"{v:.1f}"


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader("server.web", "templates"), autoescape=select_autoescape(("html",)),
                      trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(i18n.translate, i18n.ntranslate, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(lang=i18n.current, languages=i18n.LANGUAGES, script_messages=i18n.script_messages)
    env.filters.update(clock=clock, stamp=stamp, num=num, day=day, hm=hm, zone_abbr=zone_abbr, label=label)
    return env


def render(name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})

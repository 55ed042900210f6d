"""The pages' Jinja2 templates (server/web/templates), one environment built on first use, and the filters they
share (times, numbers)."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape


def clock(ms: int | None) -> str:
    """HH:MM:SS UTC of a time in ms (empty for None)."""
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%H:%M:%S")


def stamp(ms: int | None) -> str:
    if ms is None:
        return ""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


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
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(clock=clock, stamp=stamp, num=num)
    return env


def render(name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    html = environment().get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})

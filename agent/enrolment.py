"""The site box's side of enrolment and the online check (`hazmon agent enroll`, `hazmon agent check --online`).

`enrol()` exchanges a one-time code for the agent's token (POST /api/v1/agents/enroll); `render_config()` is the
agent config it leads to; `check_online()` asks the server who the token is and what time it is. Every problem
names the URL it is about.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx

ENROL_PATH = "/api/v1/agents/enroll"
ME_PATH = "/api/v1/agents/me"
HEALTH_PATH = "/api/v1/health"


class EnrolmentError(Exception):
    """The enrolment or the check failed; the message names the URL and why."""


@dataclass(frozen=True)
class Enrolment:
    site: str
    agent: str
    token: str


def _detail(response: httpx.Response) -> str:
    try:
        return str(response.json().get("detail", response.text))[:300]
    except ValueError:
        return response.text[:300] or response.reason_phrase


def enrol(server: str, *, code: str, agent: str | None, timeout_s: float = 10.0) -> Enrolment:
    url = server.rstrip("/") + ENROL_PATH
    try:
        response = httpx.post(url, json={"code": code, "agent": agent}, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise EnrolmentError(f"{url}: cannot reach the server: {exc or type(exc).__name__}") from None
    if response.status_code != 200:
        raise EnrolmentError(f"{url}: refused ({response.status_code}): {_detail(response)}")
    body = response.json()
    return Enrolment(site=body["site"], agent=body["agent"], token=body["token"])


@dataclass(frozen=True)
class OnlineCheck:
    site: str
    agent: str
    clock_offset_s: float  # the server's clock minus ours


def check_online(server: str, *, token: str, site: str | None = None, agent: str | None = None,
                 clock_tolerance_s: float = 5.0, timeout_s: float = 10.0) -> OnlineCheck:
    """Reachable, token accepted (for this site and agent when given), clocks within `clock_tolerance_s`.
    Raises EnrolmentError naming the URL."""
    base = server.rstrip("/")
    url = base + ME_PATH
    try:
        httpx.get(base + HEALTH_PATH, timeout=timeout_s).raise_for_status()
    except httpx.HTTPStatusError as exc:
        raise EnrolmentError(f"{base + HEALTH_PATH}: the server answers {exc.response.status_code}") from None
    except httpx.HTTPError as exc:
        raise EnrolmentError(f"{base}: cannot reach the server: {exc or type(exc).__name__}") from None
    before = time.time()
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise EnrolmentError(f"{url}: cannot reach the server: {exc or type(exc).__name__}") from None
    after = time.time()
    if response.status_code in (401, 403):
        raise EnrolmentError(f"{url}: the server refuses the agent's token ({response.status_code}): "
                             f"{_detail(response)}")
    if response.status_code != 200:
        raise EnrolmentError(f"{url}: the server answers {response.status_code}: {_detail(response)}")
    body = response.json()
    if (site, agent) != (None, None) and (body["site"], body["agent"]) != (site, agent):
        raise EnrolmentError(f"{url}: the token belongs to {body['site']}/{body['agent']}, the config says "
                             f"{site}/{agent}")
    offset = body["server_ms"] / 1000 - (before + after) / 2
    if abs(offset) > clock_tolerance_s + (after - before) / 2:
        raise EnrolmentError(f"{url}: this clock is {abs(offset):.1f} s {'behind' if offset > 0 else 'ahead of'} "
                             f"the server's (tolerance {clock_tolerance_s:g} s): set up NTP (timedatectl)")
    return OnlineCheck(site=body["site"], agent=body["agent"], clock_offset_s=offset)


def render_config(*, server: str, enrolment: Enrolment, data_dir: str | None) -> str:
    """The agent config a fresh enrolment writes: valid as it is (no sources yet), a sources template below."""
    q = json.dumps  # TOML basic strings are JSON strings for these values
    lines = [
        "# hazmon agent configuration, written by `hazmon agent enroll`. Check it with:",
        "#   hazmon agent check -c THIS_FILE --online",
        "# It holds the agent's bearer token: keep it readable by the agent's user only (mode 0600).",
        "schema_version = 1",
        f"site = {q(enrolment.site)}",
        f"agent = {q(enrolment.agent)}",
    ]
    if data_dir is not None:
        lines.append(f"data_dir = {q(data_dir)}")
    lines += [
        "",
        "[uplink]",
        'type = "http"',
        f"url = {q(server.rstrip('/'))}",
        f"token = {q(enrolment.token)}",
        "",
        "# One [[sources]] table per device (docs/sources.md); `hazmon agent identify --port DEV` names the",
        "# protocol on a serial port. For example:",
        "# [[sources]]",
        '# type = "plantower"',
        '# name = "grinding-dust"',
        '# port = "/dev/serial/by-id/usb-..."',
        "",
    ]
    return "\n".join(lines)


__all__ = ["Enrolment", "EnrolmentError", "OnlineCheck", "check_online", "enrol", "render_config"]

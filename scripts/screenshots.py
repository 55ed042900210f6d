"""Screenshots of the pages from the demo's data, for docs/web-pages.md (and anyone checking a layout change).

    .venv/bin/python -m scripts.screenshots [--out docs/screenshots] [--wait 60]

Runs `hazmon demo` in a temporary data dir on a free port, waits until the gas leak has raised its alerts and
started the emergency plan, signs in as the demo's admin in Debian's Chromium (Playwright, as the tests do) and
saves one PNG per page: desktop width, the alert page also at 390 px (a phone), and the tank farm's notice
board through a kiosk link, without signing in. Two workers are rostered in the tank farm first, for the
record-keeper's pages (docs/health-files.md).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.kit.browser import chromium
from tests.kit.ports import free_port

#: (file name, path, what must be on the page before the shot)
PAGES: tuple[tuple[str, str, str], ...] = (
    ("dashboard", "/", "#app .tile"),
    ("zone", "/zones/tank-farm", "#app canvas"),
    ("alerts", "/alerts", "#app .count"),
    ("live", "/live", "#live tbody tr"),
    ("incidents", "/incident", "#app .incident-card"),
    ("incident", "/incidents/1", "#app .steps"),
    ("agents", "/agents", "#app .card"),
    ("sensors", "/sensors", "#app .card"),
    ("sensor", "/sensors/demo-site/tank-3-gas", "#sensor h1"),
    ("calibration", "/calibration", "#calibration > *"),
    ("rules", "/rules", "#app .card"),
    ("org", "/org", "#app .card[data-zone]"),
    ("exams", "/exams", "#app .due-table"),
    ("admin-users", "/admin/users", "#users table"),
    ("admin-audit", "/admin/audit", "#audit table"),
    ("admin-settings", "/admin/settings", "#settings .standing"),
    ("kiosk-links", "/board-links", "#app .card[data-zone]"),
    ("workers", "/workers", "#workers table"),
    ("worker", "/workers/W-1001", "#file h2"),
)

#: the record-keeper's pages need people: two workers rostered in the tank farm through the leak
WORKERS = (("W-1001", "王小明", "储罐区"), ("W-1002", "Maria Lopez", "Tank farm"))


def _start_demo(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "hazmon", "demo", "--port", str(port), "--data-dir",
                             str(data_dir)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"log in as admin / (\S+)\)", line)
        if found:
            return proc, found.group(1)
    raise SystemExit(f"the demo stopped before it printed its password (exit {proc.wait()})")


def _seed_workers(url: str, password: str) -> None:
    """WORKERS, each on a shift in the tank farm from two hours ago to six hours from now (before the leak, so its
    alerts are linked to them)."""
    now = time.time_ns() // 1_000_000
    with httpx.Client(base_url=url, timeout=10) as client:
        r = client.post("/api/v1/auth/login", json={"username": "admin", "password": password})
        r.raise_for_status()
        client.headers["Authorization"] = f"Bearer {r.json()['token']}"
        for no, name, department in WORKERS:
            w = client.post("/api/v1/workers", json={"employee_no": no, "name": name, "department": department})
            w.raise_for_status()
            a = client.post("/api/v1/assignments", json={"worker_id": w.json()["id"], "zone": "tank-farm",
                                                          "start_ms": now - 2 * 3_600_000,
                                                          "end_ms": now + 6 * 3_600_000})
            a.raise_for_status()


def _first_alert(url: str, password: str, timeout_s: float) -> tuple[int, str]:
    """The id of the demo's first active alert, once the leak has raised one, and a kiosk link of its zone."""
    with httpx.Client(base_url=url, timeout=10) as client:
        r = client.post("/api/v1/auth/login", json={"username": "admin", "password": password})
        r.raise_for_status()
        client.headers["Authorization"] = f"Bearer {r.json()['token']}"
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            active = client.get("/api/v1/alerts", params={"state": "active"}).json()
            if active:
                link = client.post("/api/v1/zones/tank-farm/board-links", json={"label": "screenshots"})
                link.raise_for_status()
                return int(active[0]["id"]), str(link.json()["url"])
            time.sleep(1)
    raise SystemExit(f"no alert within {timeout_s:.0f} s")


def _shot(page: object, url: str, ready: str, path: Path) -> None:
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_selector(ready, timeout=15_000)  # type: ignore[attr-defined]
    page.wait_for_timeout(500)  # type: ignore[attr-defined]  # the charts draw after their data arrives
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    print(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--wait", type=float, default=60.0, help="seconds of demo data after the first alert")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="hazmon-shots-") as tmp:
        demo, password = _start_demo(Path(tmp), port)
        try:
            _seed_workers(url, password)
            alert, board = _first_alert(url, password, 90)
            time.sleep(args.wait)
            with chromium() as browser:
                page = browser.new_page(viewport={"width": 1280, "height": 860})
                page.goto(url + "/")
                page.fill("#username", "admin")
                page.fill("#password", password)
                page.click("#login button[type=submit]")
                page.wait_for_selector("#app:not([hidden])")
                for name, path, ready in (*PAGES, ("alert", f"/alerts/{alert}", "#app canvas")):
                    _shot(page, url + path, ready, args.out / f"{name}.png")
                phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
                phone.add_cookies(page.context.cookies())
                _shot(phone.new_page(), f"{url}/alerts/{alert}", "#app canvas", args.out / "alert-phone.png")
                kiosk = browser.new_page(viewport={"width": 1600, "height": 900})  # no sign-in: the link is enough
                _shot(kiosk, board if board.startswith("http") else url + board, ".board-state", args.out / "board.png")
        finally:
            demo.terminate()
            demo.wait(30)


if __name__ == "__main__":
    main()

"""Page latency: the dashboard's and a zone page's parts, and a 7-day chart, with 100 sensors of 1 Hz data.

    python -m benchmarks.pages [--sensors 100] [--days 7] [--shift-hours 8] [--requests 15]

A real `hazmon server run` on SQLite in a temporary directory, seeded directly in its database (ingesting 60 M
readings through the API would take hours): 10 zones of `--sensors / 10` sensors (noise, H2S, CO, dust), each with
`--days` of one-minute rollups (what 1 Hz ingest leaves in rollups_1m, the table the charts read), the raw 1 Hz
readings of the last `--shift-hours` (what the shift's exposure reads) and its latest values. Each figure is the
wall time of one authenticated GET, requests interleaved with the baseline, GET /api/v1/health (the server's own
floor: routing, auth-free JSON), and printed as min / median / max.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.kit.server import ServerProcess

SITE, AGENT = "bench", "gw-1"
#: (quantity, unit, base value, substance declared in the zone)
KINDS = (("laeq", "dB(A)", 84.0, "noise"), ("h2s", "ppm", 2.0, "h2s"), ("co", "ppm", 8.0, "co"),
         ("pm4", "mg/m3", 0.3, "silica_crystalline"))


def _seed(server: ServerProcess, *, sensors: int, days: int, shift_h: float, now_ms: int) -> list[tuple[str, str]]:
    """Zones, sensors, rollups, raw readings and latest values; returns the (sensor, quantity) pairs."""
    admin = {"Authorization": f"Bearer {server.admin_token()}"}
    server.agent_token(SITE, AGENT)
    db = sqlite3.connect(server.database_url.removeprefix("sqlite:///"))
    agent_id = db.execute("SELECT id FROM agents WHERE site = ? AND name = ?", (SITE, AGENT)).fetchone()[0]
    pairs = []
    for i in range(sensors):
        quantity, unit, base, _ = KINDS[i % len(KINDS)]
        pairs.append((f"s-{i:03d}", quantity))
        db.execute("INSERT INTO sensors (site, name, agent_id, first_seen_ms) VALUES (?, ?, ?, ?)",
                   (SITE, f"s-{i:03d}", agent_id, now_ms - days * 86_400_000))
    db.commit()
    ids = dict(db.execute("SELECT name, id FROM sensors WHERE site = ?", (SITE,)).fetchall())
    first_minute = (now_ms - days * 86_400_000) // 60_000 * 60_000
    minutes = range(first_minute, now_ms // 60_000 * 60_000, 60_000)
    raw_from = now_ms - round(shift_h * 3_600_000)
    for i, (name, quantity) in enumerate(pairs):
        _, unit, base, _ = KINDS[i % len(KINDS)]
        energetic = quantity == "laeq"
        rows = []
        for k, m in enumerate(minutes):
            v = base * (1 + 0.1 * ((k * 7 + i) % 11) / 11)
            rows.append((ids[name], quantity, m, 60, v * 60, v * 0.9, v * 1.1,
                         60 * 10 ** (v / 10) if energetic else None, unit))
        db.executemany("INSERT INTO rollups_1m (sensor_id, quantity, minute_ms, n, value_sum, value_min, value_max,"
                       " energy_sum, unit) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        raw = [(ids[name], quantity, base * (1 + 0.1 * ((t // 1000 + i) % 11) / 11), unit, t, 1.0, "", agent_id, 1)
               for t in range(raw_from, now_ms, 1000)]
        db.executemany("INSERT INTO readings (sensor_id, quantity, value, unit, ts, interval_s, flags, agent_id, seq)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", raw)
        db.execute("INSERT INTO latest (sensor_id, quantity, value, unit, ts, flags, interval_ms, valid_ts)"
                   " VALUES (?, ?, ?, ?, ?, '', 1000, ?)", (ids[name], quantity, raw[-1][2], unit, now_ms, now_ms))
        db.commit()
    db.close()
    per_zone = max(1, sensors // 10)
    for z in range(0, sensors, per_zone):
        code = f"zone-{z // per_zone:02d}"
        r = httpx.post(f"{server.url}/api/v1/zones", json={"code": code, "name": code, "site": SITE},
                       headers=admin, timeout=30)
        r.raise_for_status()
        substances = set()
        for i in range(z, min(z + per_zone, sensors)):
            httpx.post(f"{server.url}/api/v1/zones/{code}/sensors", json={"sensor": pairs[i][0], "site": SITE},
                       headers=admin, timeout=30).raise_for_status()
            substances.add(KINDS[i % len(KINDS)][3])
        for s in sorted(substances):
            body = {"substance": s, **({"variant": "sio2-10-50pct"} if s == "silica_crystalline" else {})}
            httpx.post(f"{server.url}/api/v1/zones/{code}/hazards", json=body, headers=admin,
                       timeout=30).raise_for_status()
    return pairs


def _time(client: httpx.Client, path: str, **params: object) -> tuple[float, httpx.Response]:
    t0 = time.perf_counter()
    r = client.get(path, params=params)  # type: ignore[arg-type]
    elapsed = (time.perf_counter() - t0) * 1000
    r.raise_for_status()
    return elapsed, r


def _line(label: str, ms: list[float]) -> str:
    return f"{label:44}: min {min(ms):8.1f}  median {statistics.median(ms):8.1f}  max {max(ms):8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=100)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--shift-hours", type=float, default=8.0)
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    now = time.time_ns() // 1_000_000
    with tempfile.TemporaryDirectory(prefix="hazmon-pages-") as tmp:
        server = ServerProcess(Path(tmp) / "server")
        server.start()
        try:
            t0 = time.perf_counter()
            pairs = _seed(server, sensors=args.sensors, days=args.days, shift_h=args.shift_hours, now_ms=now)
            raw = args.sensors * round(args.shift_hours * 3600)
            print(f"seeded {args.sensors} sensors: {args.days} d of 1-min rollups, {args.shift_hours:g} h of 1 Hz "
                  f"readings ({raw:,} rows) in {time.perf_counter() - t0:.0f} s")
            sensor, quantity = pairs[1]
            headers = {"Authorization": f"Bearer {server.admin_token()}"}
            week = {"sensor": sensor, "quantity": quantity, "since": now - args.days * 86_400_000, "until": now,
                    "max_points": 1000}
            medians: dict[str, list[float]] = {}
            with httpx.Client(base_url=server.url, headers=headers, timeout=120) as client:
                # the server's background worker folds every sensor's shift so far (server/web/shift_totals.py);
                # until it has, the tiles say "being computed"
                t0 = time.perf_counter()
                cold, r = _time(client, "/web/partials/dashboard")
                while "being computed" in r.text:
                    time.sleep(1.0)
                    r = client.get("/web/partials/dashboard")
                print(f"first dashboard request {cold:.0f} ms; every shift folded after "
                      f"{time.perf_counter() - t0:.1f} s")
                for run in range(1, args.runs + 1):
                    times: dict[str, list[float]] = {k: [] for k in ("health", "dashboard", "zone", "zone_live",
                                                                     "trend")}
                    points = 0
                    for _ in range(args.requests):
                        times["health"].append(_time(client, "/api/v1/health")[0])
                        times["dashboard"].append(_time(client, "/web/partials/dashboard")[0])
                        times["zone"].append(_time(client, "/web/partials/zones/zone-00")[0])
                        times["zone_live"].append(_time(client, "/web/partials/zones/zone-00/live")[0])
                        ms, r = _time(client, "/api/v1/trend", **week)
                        times["trend"].append(ms)
                        points = len(r.json()["points"])
                    print(f"run {run}: {args.requests} requests each, interleaved")
                    print(_line("  baseline  GET /api/v1/health", times["health"]))
                    print(_line("  dashboard /web/partials/dashboard", times["dashboard"]))
                    print(_line("  zone page /web/partials/zones/zone-00", times["zone"]))
                    print(_line("  zone live /web/partials/zones/zone-00/live", times["zone_live"]))
                    print(_line(f"  {args.days}-day chart /api/v1/trend ({points} points)", times["trend"]))
                    for k, v in times.items():
                        medians.setdefault(k, []).append(statistics.median(v))
            print("medians over runs (min / median / max ms): " + ", ".join(
                f"{k} {min(v):.1f} / {statistics.median(v):.1f} / {max(v):.1f}" for k, v in medians.items()))
        finally:
            server.stop()


if __name__ == "__main__":
    main()

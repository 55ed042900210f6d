"""Alert latency under ingest load (issue 16, target 3: p99 <= 250 ms from the ingest request to the alert in the
API, p99 <= 500 ms to the webhook at a local receiver, under 10k readings/s of background load).

    python -m benchmarks.alert_latency [--load 10000] [--probes 60] [--runs 3] [--database-url URL]

A real `hazmon server run` (SQLite in a temporary directory unless --database-url names a PostgreSQL database)
with a webhook policy for H2S. One thread sends 500-reading batches of noise readings from agent `load` at
`--load` readings/s (the rate it reached is printed: the server may not keep up); another sends, once a second,
one critical H2S reading of a new sensor from agent `probe` and measures (a) until GET /api/v1/alerts shows the
alert (polled every 5 ms), (b) until the webhook receiver has it. The baseline is the same probe with no load, in
the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from tests.kit.receivers import webhook_server
from tests.kit.server import ServerProcess

SITE = "bench"


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def _batch(agent: str, seq: int, readings: list[dict[str, object]]) -> bytes:
    return json.dumps({"schema": "hazmon.batch/1", "site": SITE, "agent": agent, "seq": seq,
                       "sent_ms": time.time_ns() // 1_000_000, "readings": readings}).encode()


class Load(threading.Thread):
    def __init__(self, url: str, token: str, rate: int, seq: int) -> None:
        super().__init__(daemon=True)
        self.url, self.token, self.rate = url, token, rate
        self.stop = threading.Event()
        self.sent = 0
        self.seq = seq  # the last one sent: a later run goes on from the previous run's
        self.started = 0.0
        self.elapsed = 0.0

    def run(self) -> None:
        size = 500
        period = size / self.rate
        self.started = time.perf_counter()
        with httpx.Client(headers={"Authorization": f"Bearer {self.token}"}, timeout=30) as client:
            while not self.stop.is_set():
                t = time.perf_counter()
                now = time.time_ns() // 1_000_000
                self.seq += 1
                readings = [{"sensor": f"load-{i % 50}", "quantity": "laeq", "value": 80.0 + (i % 7),
                             "unit": "dB(A)", "ts": now - size + i, "interval_s": 1.0, "flags": []}
                            for i in range(size)]
                r = client.post(f"{self.url}/api/v1/ingest", content=_batch("load", self.seq, readings))
                r.raise_for_status()
                self.sent += size
                rest = period - (time.perf_counter() - t)
                if rest > 0:
                    self.stop.wait(rest)
        self.elapsed = time.perf_counter() - self.started


def _probe(server: ServerProcess, hook, token: str, admin: str, n: int, offset: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    api_ms: list[float] = []
    hook_ms: list[float] = []
    with httpx.Client(timeout=30) as client:
        for k in range(offset, offset + n):
            sensor = f"probe-{k}"
            now = time.time_ns() // 1_000_000
            body = _batch("probe", k + 1, [{"sensor": sensor, "quantity": "h2s", "value": 25.0, "unit": "ppm",
                                             "ts": now, "flags": []}])
            seen = len(hook.requests)
            t0 = time.perf_counter()
            r = client.post(f"{server.url}/api/v1/ingest", content=body, headers={"Authorization": f"Bearer {token}"})
            r.raise_for_status()
            while True:
                alerts = client.get(f"{server.url}/api/v1/alerts", params={"sensor": sensor},
                                    headers={"Authorization": f"Bearer {admin}"}).json()
                items = alerts if isinstance(alerts, list) else alerts.get("alerts", alerts.get("items", []))
                if any(a.get("sensor") == sensor for a in items):
                    api_ms.append((time.perf_counter() - t0) * 1000)
                    break
                if time.perf_counter() - t0 > 30:
                    raise SystemExit(f"the alert of {sensor} did not appear in 30 s")
                time.sleep(0.005)
            while not any(json.loads(b).get("alert", {}).get("sensor") == sensor for _, b in hook.requests[seen:]):
                if time.perf_counter() - t0 > 30:
                    raise SystemExit(f"the webhook of {sensor} did not arrive in 30 s")
                time.sleep(0.002)
            hook_ms.append((time.perf_counter() - t0) * 1000)
            time.sleep(max(0.0, 1.0 - (time.perf_counter() - t0)))
    return api_ms, hook_ms


def _line(label: str, ms: list[float]) -> str:
    return (f"  {label:28}: p50 {statistics.median(ms):7.1f}  p99 {_pct(ms, 99):7.1f}  max {max(ms):7.1f} ms"
            f"  ({len(ms)} alerts)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=int, default=10_000, help="background readings/s")
    parser.add_argument("--probes", type=int, default=60, help="alerts per case and run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hazmon-latency-") as tmp, webhook_server() as hook:
        notify = Path(tmp) / "notify.toml"
        notify.write_text(f"""
[[groups]]
name = "safety"
members = [{{ name = "ops", webhook = "{hook.url}", secret = "latency-bench-secret-0123456789" }}]

[[policies]]
id = "gas"
hazards = ["h2s"]
min_severity = "warning"
stages = [{{ group = "safety" }}]
""")
        extra = {"database_url": args.database_url} if args.database_url else {}
        server = ServerProcess(Path(tmp) / "server", notify_file=str(notify), **extra)
        server.start()
        try:
            admin = server.admin_token()
            probe = server.agent_token(SITE, "probe")
            load_token = server.agent_token(SITE, "load")
            offset = 0
            load_seq = 0
            summary: dict[str, list[float]] = {}
            for run in range(1, args.runs + 1):
                base_api, base_hook = _probe(server, hook, probe, admin, max(5, args.probes // 4), offset)
                offset += max(5, args.probes // 4)
                load = Load(server.url, load_token, args.load, load_seq)
                load.start()
                api, web = _probe(server, hook, probe, admin, args.probes, offset)
                offset += args.probes
                load.stop.set()
                load.join()
                load_seq = load.seq
                rate = load.sent / load.elapsed
                print(f"run {run}: background load {rate:,.0f} readings/s reached (asked {args.load:,})")
                print(_line("baseline (no load) -> API", base_api))
                print(_line("baseline (no load) -> webhook", base_hook))
                print(_line("under load -> API", api))
                print(_line("under load -> webhook", web))
                for k, v in (("api_p99", _pct(api, 99)), ("webhook_p99", _pct(web, 99)), ("load", rate)):
                    summary.setdefault(k, []).append(v)
            print("over runs (min / median / max): " + ", ".join(
                f"{k} {min(v):.0f} / {statistics.median(v):.0f} / {max(v):.0f}" for k, v in summary.items()))
        finally:
            server.stop()


if __name__ == "__main__":
    main()

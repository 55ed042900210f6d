"""Ingest throughput: readings/s through POST /api/v1/ingest (batches of 500) against a raw SQLite
executemany of the same rows, measured in the same run on the same disk.

    python benchmarks/ingest_http.py [--batches 40] [--batch-size 500]

Two runs: live data (timestamps of the last seconds) and a catch-up of data 2 hours late (flagged `late`, and
checked against computed exposure records). The server runs as a real process (uvicorn, SQLite in a temporary
directory, synchronous=FULL); the client sends batches one after another like an agent does. The baseline writes
the same rows into a table of the same shape with one transaction per batch and the same durability settings, so
the ratio is the cost of HTTP, validation, idempotency, latest values, rollups and alert evaluation on top of the
bare insert.
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from exposure import Batch, Reading
from exposure.batch import encode_batch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_batches(n_batches: int, size: int, start_ms: int, *, agent: str = "gw-1") -> list[Batch]:
    batches = []
    for b in range(n_batches):
        readings = tuple(
            Reading(f"sensor-{i % 50}", "laeq", 80.0 + (i % 17) * 0.5, "dB(A)", start_ms + (b * size + i) * 2, 1.0, ())
            for i in range(size)
        )
        batches.append(Batch("bench", agent, b + 1, start_ms, readings))
    return batches


def run_baseline(batches: list[Batch], directory: Path) -> float:
    db = sqlite3.connect(directory / "baseline.db", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(
        "CREATE TABLE readings (id INTEGER PRIMARY KEY, sensor TEXT, quantity TEXT, value REAL, unit TEXT,"
        " ts INTEGER, interval_s REAL, flags TEXT, agent_id INTEGER, seq INTEGER)"
    )
    t0 = time.perf_counter()
    for batch in batches:
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO readings (sensor, quantity, value, unit, ts, interval_s, flags, agent_id, seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.sensor, r.quantity, r.value, r.unit, r.ts, r.interval_s, "", 1, batch.seq) for r in batch.readings],
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    db.close()
    return elapsed


def run_server(scenarios: dict[str, list[Batch]], directory: Path) -> dict[str, float]:
    """Seconds to POST each scenario's batches, one after another like an agent, to one server process."""
    port = free_port()
    env = {**os.environ, "HAZMON_DATA_DIR": str(directory / "server"), "HAZMON_PORT": str(port),
           "HAZMON_LOG_LEVEL": "warning"}
    env.pop("HAZMON_DATABASE_URL", None)
    hazmon = [sys.executable, "-m", "hazmon"]
    tokens = {
        name: subprocess.run([*hazmon, "server", "agent-token", "create", "--site", "bench", "--agent", name],
                             env=env, check=True, capture_output=True, text=True).stdout.strip()
        for name in scenarios
    }
    server = subprocess.Popen([*hazmon, "server", "run"], env=env, stdout=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health").status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        times = {}
        for name, batches in scenarios.items():
            bodies = [encode_batch(b) for b in batches]
            headers = {"Authorization": f"Bearer {tokens[name]}", "Content-Type": "application/json"}
            with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
                t0 = time.perf_counter()
                for batch, body in zip(batches, bodies, strict=True):
                    response = client.post("/api/v1/ingest", content=body)
                    response.raise_for_status()
                    assert response.json()["acked_seq"] == batch.seq, response.text
                times[name] = time.perf_counter() - t0
        return times
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    now = time.time_ns() // 1_000_000
    n = args.batches * args.batch_size
    live = make_batches(args.batches, args.batch_size, now - n * 2, agent="live")
    backfill = make_batches(args.batches, args.batch_size, now - 2 * 3_600_000, agent="backfill")
    with tempfile.TemporaryDirectory() as tmp:
        baseline = run_baseline(live, Path(tmp))
        server = run_server({"live": live, "backfill": backfill}, Path(tmp))
    print(f"readings: {n} per run, in {args.batches} batches of {args.batch_size}")
    print(f"baseline  sqlite3 executemany, 1 txn/batch   : {n / baseline:10,.0f} readings/s  ({baseline:.3f} s)")
    for name, label in (("live", "live data"), ("backfill", "2 h late (catch-up)")):
        t = server[name]
        print(f"hazmon    POST /api/v1/ingest, {label:19}: {n / t:10,.0f} readings/s  ({t:.3f} s)"
              f"  ratio to baseline {baseline / t:.3f}")


if __name__ == "__main__":
    main()

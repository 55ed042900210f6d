"""Benchmark: the streaming chemical evaluator (TWA + 15-min STEL) on 1 Hz data for N sensors, against a naive
evaluator that recomputes the windows from scratch on every reading, measured in the same run.

    python benchmarks/exposure_streaming.py [--hours 1] [--sensors 100] [--naive-readings 1800]

The naive evaluator rebuilds the series and recomputes TWA and the highest 15-min window over everything so far
on each reading (what a straightforward implementation does); it is O(n) per reading, so it runs on one sensor's
first --naive-readings readings and its rate is reported per reading.
"""

from __future__ import annotations

import argparse
import random
import time

from exposure.chemical import stel, twa
from exposure.readings import Reading
from exposure.segments import series_from_readings
from exposure.streaming import ChemicalEvaluator

T0 = 1_764_400_000_000


def make(sensor: int, n: int, rnd: random.Random) -> list[Reading]:
    out, level = [], 10.0
    for i in range(n):
        level = max(0.0, level + rnd.gauss(0, 0.5))
        flags = ("warmup",) if rnd.random() < 0.001 else ()
        out.append(Reading(f"s{sensor}", "co", level, "ppm", T0 + i * 1000, None, flags))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--sensors", type=int, default=100)
    ap.add_argument("--naive-readings", type=int, default=1800)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    n = int(args.hours * 3600)
    end = T0 + max(n * 1000, 8 * 3600 * 1000)
    data = [make(s, n, rnd) for s in range(args.sensors)]
    # 1 % of the readings arrive late (swapped with a neighbour up to 30 s later)
    for rs in data:
        for i in range(0, len(rs) - 30, 100):
            j = i + rnd.randint(1, 30)
            rs[i], rs[j] = rs[j], rs[i]

    t = time.perf_counter()
    evs = [ChemicalEvaluator(start_ms=T0, end_ms=end, unit="ppm", max_gap_s=5) for _ in data]
    for ev, rs in zip(evs, data, strict=True):
        for r in rs:
            ev.add(r)
    ingest = time.perf_counter() - t
    t = time.perf_counter()
    results = [(ev.twa().twa, ev.stel().value) for ev in evs]
    query = time.perf_counter() - t
    total = args.sensors * n
    stream_rate = total / (ingest + query)

    # check: streaming == batch on the first sensor
    batch = series_from_readings(data[0], start_ms=T0, end_ms=end, unit="ppm", max_gap_s=5)
    assert abs(twa(batch).twa - results[0][0]) < 1e-9 and abs(stel(batch).value - results[0][1]) < 1e-9

    m = min(args.naive_readings, n)
    sample = data[0][:m]
    t = time.perf_counter()
    for k in range(1, m + 1):
        s = series_from_readings(sample[:k], start_ms=T0, end_ms=end, unit="ppm", max_gap_s=5)
        twa(s)
        stel(s)
    naive_rate = m / (time.perf_counter() - t)

    print(f"data: {args.sensors} sensors x {args.hours:g} h at 1 Hz = {total:,} readings (1 % late)")
    print(f"streaming: {stream_rate:,.0f} readings/s (ingest {ingest:.2f} s, final TWA+STEL query {query:.2f} s)")
    print(f"naive recomputation: {naive_rate:,.0f} readings/s (1 sensor, first {m:,} readings; O(n) per reading)")
    print(f"ratio streaming/naive: {stream_rate / naive_rate:,.0f}x")


if __name__ == "__main__":
    main()

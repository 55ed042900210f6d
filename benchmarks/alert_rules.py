"""Ingest cost against the number of rules and of distinct sensors per batch (issue 16, target 2: 1,000 rules cost
at most 2 x 8 rules; 1,000 sensors per batch at most 1.5 x 10 sensors).

    python -m benchmarks.alert_rules [--batches 20] [--batch-size 500] [--runs 3]

In-process, on SQLite in a temporary directory (the server's own engine settings): `accept_batch`, the whole
ingest of one agent message (decode, validation, idempotency, readings, latest values, rollups, alert evaluation,
ledger), timed with the process's own CPU counter (time.process_time) per reading. Four cases, their slices
interleaved so that a noisy neighbour slows them all alike:

- `8 rules / 10 sensors`: the built-in rules (server/alerts/default_rules.toml), the baseline;
- `1000 rules / 10 sensors`: the built-in rules and 992 more, each on its own sensors (`line-K-*`) of a watched
  quantity, as a large site's per-line rules would be;
- `8 rules / 1000 sensors`: each batch spread over 1,000 distinct sensors;
- `1000 rules / 1000 sensors`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from exposure import Batch, Reading
from exposure.batch import encode_batch
from server.alerts.rule_file import parse_rules
from server.composition import build_services
from server.db.session import upgrade
from server.ingest.agents import create_agent_token
from server.ingest.service import accept_batch
from server.series.models import Agent
from server.settings import Settings

DEFAULT_RULES = (Path(__file__).resolve().parent.parent / "server" / "alerts" / "default_rules.toml").read_text()
QUANTITIES = (("laeq", "dB(A)", 82.0), ("h2s", "ppm", 1.0), ("co", "ppm", 5.0), ("o2", "%vol", 20.9))


def many_rules(n: int) -> str:
    """The built-in rules and n more on other sensors of the same quantities."""
    extra = []
    for k in range(n):
        quantity, unit, base = QUANTITIES[k % len(QUANTITIES)]
        direction = "below" if quantity == "o2" else "above"
        level = 19.5 if quantity == "o2" else base * 10
        extra.append(f'[[rules]]\nid = "line-{k}"\nquantity = "{quantity}"\nunit = "{unit}"\n'
                     f'sensors = "line-{k}-*"\nlevels = [{{ severity = "warning", {direction} = {level} }}]\n')
    return DEFAULT_RULES + "\n" + "\n".join(extra)


def readings(size: int, sensors: int, start_ms: int, prefix: str) -> tuple[Reading, ...]:
    out = []
    for i in range(size):
        quantity, unit, base = QUANTITIES[i % len(QUANTITIES)]
        out.append(Reading(f"{prefix}-s-{(i * 7) % sensors:04d}", quantity, base + (i % 5) * 0.01, unit,
                           start_ms + i, 1.0, ()))
    return tuple(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20, help="batches per case and run")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hazmon-rules-") as tmp:
        now = [time.time_ns() // 1_000_000]
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", data_dir=Path(tmp))
        services = build_services(settings, clock=lambda: now[0])
        upgrade(services.engine)
        rulesets = {8: parse_rules(DEFAULT_RULES, name="built-in"), 1000: parse_rules(many_rules(992), name="1000")}
        cases = [(r, s) for r in (8, 1000) for s in (10, 1000)]
        agents: dict[tuple[int, int], tuple[int, str]] = {}
        with services.sessions() as session:
            for r, s in cases:
                name = f"gw-{r}-{s}"
                create_agent_token(session, site="bench", agent=name, now_ms=now[0])
                session.commit()
                aid = session.query(Agent.id).filter(Agent.site == "bench", Agent.name == name).scalar()
                agents[(r, s)] = (int(aid), name)
        seq = {c: 0 for c in cases}
        per_reading: dict[tuple[int, int], list[float]] = {c: [] for c in cases}

        def slice_(case: tuple[int, int]) -> float:
            r, s = case
            services.alerting.install(rulesets[r])
            aid, name = agents[case]
            cpu = 0.0
            for _ in range(args.batches):
                seq[case] += 1
                now[0] = time.time_ns() // 1_000_000
                body = encode_batch(Batch("bench", name, seq[case], now[0],
                                          readings(args.batch_size, s, now[0] - args.batch_size, name)))
                t0 = time.process_time()
                with services.sessions() as session:
                    accept_batch(session, agent_id=aid, site="bench", agent=name, body=body,
                                 alerting=services.alerting, events=services.events, now_ms=now[0],
                                 max_future_ms=round(settings.max_future_s * 1000),
                                 late_after_ms=round(settings.late_after_s * 1000),
                                 counters=services.counters)
                    session.commit()
                cpu += time.process_time() - t0
            return cpu / (args.batches * args.batch_size) * 1e6

        for case in cases:  # warm up: the sensors exist, the rule index is built
            slice_(case)
        for run in range(1, args.runs + 1):
            got = {c: [] for c in cases}
            for _ in range(3):
                for case in cases:
                    got[case].append(slice_(case))
            print(f"run {run}: CPU per reading (us), median of 3 interleaved slices of {args.batches} x "
                  f"{args.batch_size}")
            base = statistics.median(got[(8, 10)])
            for case in cases:
                m = statistics.median(got[case])
                per_reading[case].append(m)
                print(f"  {case[0]:5d} rules / {case[1]:5d} sensors: {m:7.1f} us  ({m / base:.2f} x baseline)")
        print("ratios over runs (min / median / max):")
        for case in cases[1:]:
            ratios = [a / b for a, b in zip(per_reading[case], per_reading[(8, 10)], strict=True)]
            print(f"  {case[0]} rules / {case[1]} sensors vs 8 / 10: {min(ratios):.2f} / "
                  f"{statistics.median(ratios):.2f} / {max(ratios):.2f}")
        services.engine.dispose()


if __name__ == "__main__":
    main()

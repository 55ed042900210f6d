"""Prometheus text as a test reads it: parsed by prometheus_client's own parser, as Prometheus would scrape it."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample


@dataclass(frozen=True)
class Scrape:
    families: dict[str, str]  # family name -> type
    samples: list[Sample]

    def value(self, name: str, **labels: str) -> float | None:
        """The value of the sample `name` with exactly these labels, or None when there is none."""
        found = [s.value for s in self.samples if s.name == name and s.labels == labels]
        assert len(found) <= 1, (name, labels, found)
        return found[0] if found else None

    def series(self, name: str) -> dict[tuple[tuple[str, str], ...], float]:
        """Every sample of `name`: its sorted labels -> value."""
        return {tuple(sorted(s.labels.items())): s.value for s in self.samples if s.name == name}

    def names(self) -> set[str]:
        """Every metric name a PromQL expression can select, also of a family without samples yet (a counter
        family `x` is selected as `x_total`)."""
        names = {s.name for s in self.samples} | set(self.families)
        return names | {f"{name}_total" for name, kind in self.families.items() if kind == "counter"}


def parse(text: str) -> Scrape:
    families = list(text_string_to_metric_families(text))
    return Scrape({f.name: f.type for f in families}, [s for f in families for s in f.samples])

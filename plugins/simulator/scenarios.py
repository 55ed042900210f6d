"""Pure signal models for the simulator: the value of each quantity at sample k of a scenario.

Deterministic: the same seed, sensor name and sample index give the same value on any machine.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from typing import Literal

Kind = Literal["noise", "dust", "gas"]
Scenario = Literal["normal_shift", "gas_leak"]

#: quantities and units per kind
QUANTITIES: dict[Kind, tuple[tuple[str, str], ...]] = {
    "noise": (("laeq", "dB(A)"),),
    "dust": (("pm4", "mg/m3"), ("pm10", "mg/m3")),
    "gas": (("co", "ppm"), ("h2s", "ppm"), ("o2", "%vol")),
}

# Baselines for a normal shift: a press shop at ~84 dB(A), dust well under the limits, clean air.
_BASE = {"laeq": 84.0, "pm4": 0.6, "pm10": 1.6, "co": 2.0, "h2s": 0.3, "o2": 20.9}
_NOISE = {"laeq": 2.5, "pm4": 0.08, "pm10": 0.2, "co": 0.4, "h2s": 0.05, "o2": 0.02}


@dataclass(frozen=True)
class LeakShape:
    """A gas release that starts at `start_s` and ramps up linearly to a plateau."""

    start_s: float = 5.0
    h2s_ppm_per_s: float = 2.0
    h2s_max_ppm: float = 60.0
    co_ppm_per_s: float = 6.0
    co_max_ppm: float = 250.0
    o2_drop_per_s: float = 0.05
    o2_min: float = 18.0


class SignalModel:
    """Values for one simulated device."""

    def __init__(self, *, name: str, kind: Kind, scenario: Scenario, seed: int, leak: LeakShape) -> None:
        self.kind = kind
        self.scenario = scenario
        self.leak = leak
        self._seed = seed ^ zlib.crc32(name.encode())

    def sample(self, k: int, elapsed_s: float) -> list[tuple[str, str, float]]:
        """(quantity, unit, value) for sample number k, taken `elapsed_s` seconds into the scenario."""
        rng = random.Random(self._seed * 1_000_003 + k)
        out = []
        for quantity, unit in QUANTITIES[self.kind]:
            value = _BASE[quantity] + rng.gauss(0.0, _NOISE[quantity])
            if self.scenario == "gas_leak" and self.kind == "gas":
                value = self._leak(quantity, value, elapsed_s)
            if quantity == "laeq" and self.scenario == "normal_shift":
                value += 4.0 if (k // 600) % 3 == 0 else 0.0  # ten-minute press runs, louder
            out.append((quantity, unit, round(max(value, 0.0), 3)))
        return out

    def _leak(self, quantity: str, value: float, elapsed_s: float) -> float:
        t = max(0.0, elapsed_s - self.leak.start_s)
        if quantity == "h2s":
            return value + min(self.leak.h2s_ppm_per_s * t, self.leak.h2s_max_ppm)
        if quantity == "co":
            return value + min(self.leak.co_ppm_per_s * t, self.leak.co_max_ppm)
        if quantity == "o2":
            return max(value - self.leak.o2_drop_per_s * t, self.leak.o2_min)
        return value

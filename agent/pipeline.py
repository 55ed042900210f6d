"""What happens to each reading between its source and the outbox.

1. calibration and validity (`agent.calibration.calibrate`: zero/span, overdue flags), from the source's config;
2. observers, in order (local alarms): they see every reading and cannot change or stop it. An observer that
   raises is counted and logged; the reading still goes to the outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from agent.calibration import calibrate
from agent.clock import Clock
from agent.sources import SourceConfig
from exposure import Reading

log = logging.getLogger(__name__)

Observer = Callable[[Reading], None]


class Pipeline:
    def __init__(self, sources: Iterable[SourceConfig], *, clock: Clock) -> None:
        self._calibration = {cfg.name: cfg.calibration for cfg in sources}
        self._clock = clock
        self._observers: list[Observer] = []
        self.observer_failures = 0

    def add_observer(self, observer: Observer) -> None:
        self._observers.append(observer)

    def process(self, reading: Reading) -> Reading:
        reading = calibrate(reading, self._calibration.get(reading.sensor), now_ms=self._clock.now_ms())
        for observer in self._observers:
            try:
                observer(reading)
            except Exception:
                self.observer_failures += 1
                log.exception("reading observer %r failed", observer)
        return reading

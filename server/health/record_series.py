"""The series behind a stored exposure record, for its chart in the worker's PDF: recomputed from the data as
they are now by the same engine, and downsampled to bucket means with gaps kept as gaps."""

from __future__ import annotations

from sqlalchemy.orm import Session

from exposure.segments import Series
from server.health.exposure_records import ShiftKey, compute_hazard, shift_hazards
from server.health.models import ExposureRecord
from server.settings import HealthConfig


def record_series(session: Session, rec: ExposureRecord, config: HealthConfig) -> Series | None:
    """The measured series behind a stored record, from the data as they are now (for its chart)."""
    key = ShiftKey(rec.worker_id, rec.shift_start_ms, rec.shift_end_ms)
    variant = next((v for sub, q, v in shift_hazards(session, key) if sub == rec.substance and q == rec.quantity),
                   None)
    return compute_hazard(session, key, rec.substance, rec.quantity, config, variant).series


def downsample(series: Series, points: int = 240) -> list[tuple[int, float | None]]:
    """At most `points` (bucket start, time-weighted mean over its valid time) pairs; None where a bucket has no
    valid data, so a chart shows the gap instead of bridging it."""
    start, end = series.coverage.start_ms, series.coverage.end_ms
    width = max(1, -(-(end - start) // points))
    sums: dict[int, list[float]] = {}
    for seg in series.segments:
        a = seg.start_ms
        while a < seg.end_ms:
            b = min(seg.end_ms, (a - start) // width * width + start + width)
            acc = sums.setdefault((a - start) // width, [0.0, 0.0])
            acc[0] += seg.value * (b - a)
            acc[1] += b - a
            a = b
    out: list[tuple[int, float | None]] = []
    for i in range(-(-(end - start) // width)):
        acc = sums.get(i)
        out.append((start + i * width, acc[0] / acc[1] if acc and acc[1] > 0 else None))
    return out

"""Laboratory personal samples: entered one by one or imported from CSV (with a row-by-row error report like the
roster import), and shown in the worker's file beside the computed records with basis `personal_sample`.

A sample's `result` is its concentration over the sampled period. Its 8-h TWA follows 29 CFR 1910.1000(d)(1)(i)
and GBZ 159: E = C x T / 8 h, the unsampled time of the 8 h adding nothing, so a sample should cover the whole
exposure period (EN 689:2018 §5.5.3); a shorter one says so in its notes. A result below the limit of
quantification has no value: it is carried as censored at its LoQ (never as 0) into the group statistics.

CSV columns (header required): sample_id, employee_no, substance, start, end (ISO 8601, a time zone or the
health config's), result (empty or "<LoQ" when below it), unit, loq, laboratory, method.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from exposure.catalogue import load_catalogue
from exposure.errors import InvalidInput
from exposure.profiles import applicable_limit, get_profile
from exposure.results import LimitUsed
from exposure.units import CONCENTRATION_UNITS, convert_concentration
from server.csv_import import ImportReport, RowError
from server.health.models import PersonalSample
from server.health.schemas import LimitOut, SampleIn, SampleOut
from server.org.models import Worker
from server.settings import HealthConfig

REQUIRED = ("sample_id", "employee_no", "substance", "start", "end", "unit")
OPTIONAL = ("result", "loq", "laboratory", "method")
MAX_SAMPLE_H = 24.0


class SampleError(ValueError):
    """A sample that cannot be stored: which field, and why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def _positive(field: str, value: float | None) -> None:
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise SampleError(field, "must be a positive number")


def check(session: Session, body: SampleIn) -> None:
    """Every rule a sample must meet, as a SampleError naming the field."""
    cat = load_catalogue()
    sub = cat.substances.get(body.substance)
    if sub is None:
        raise SampleError("substance", f"unknown substance {body.substance!r}")
    if sub.family in ("noise", "oxygen", "flammable"):
        raise SampleError("substance", f"{body.substance!r} is not sampled by a laboratory (gases, vapours, dusts)")
    if body.unit not in CONCENTRATION_UNITS:
        raise SampleError("unit", f"unknown unit {body.unit!r} (known: {', '.join(sorted(CONCENTRATION_UNITS))})")
    if body.end_ms <= body.start_ms:
        raise SampleError("end", "the sample must end after it starts")
    if (body.end_ms - body.start_ms) / 3.6e6 > MAX_SAMPLE_H:
        raise SampleError("end", f"a sample lasts at most {MAX_SAMPLE_H:g} h")
    _positive("result", body.result)
    _positive("loq", body.loq)
    if body.below_loq and body.loq is None:
        raise SampleError("loq", "a result below the limit of quantification needs that limit")
    if not body.below_loq and body.result is None:
        raise SampleError("result", "a result, or below_loq with the loq")
    if body.below_loq and body.result is not None:
        raise SampleError("result", "a result below the LoQ has no value (give the loq only)")
    if session.execute(select(PersonalSample.id).where(PersonalSample.sample_id == body.sample_id)).first():
        raise SampleError("sample_id", f"sample {body.sample_id!r} is already recorded")
    try:
        to_substance_unit(body.substance, body.result or body.loq or 1.0, body.unit, "cn")
    except InvalidInput as exc:
        raise SampleError("unit", exc.reason) from None


def add(session: Session, worker: Worker, body: SampleIn, *, now_ms: int) -> PersonalSample:
    check(session, body)
    row = PersonalSample(sample_id=body.sample_id, worker_id=worker.id, substance=body.substance,
                         start_ms=body.start_ms, end_ms=body.end_ms, result=body.result, unit=body.unit,
                         loq=body.loq, below_loq=body.below_loq, laboratory=body.laboratory, method=body.method,
                         created_ms=now_ms)
    session.add(row)
    session.flush()
    return row


def to_substance_unit(substance: str, value: float, unit: str, profile: str) -> float:
    """The value in the substance's canonical unit (ppm for gases, mg/m3 for dusts) at the profile's molar
    volume."""
    sub = load_catalogue().substance(substance)
    if unit == sub.unit:
        return value
    return convert_concentration(value, unit, sub.unit, mw=sub.mw, molar_volume=get_profile(profile).molar_volume)


def twa_8h(row: PersonalSample, profile: str) -> tuple[float | None, float | None]:
    """(8-h TWA of the result, 8-h TWA of the LoQ) in the substance's unit: C x T / 8 h."""
    hours = (row.end_ms - row.start_ms) / 3.6e6

    def scaled(v: float | None) -> float | None:
        return None if v is None else to_substance_unit(row.substance, v, row.unit, profile) * hours / 8.0

    return scaled(row.result), scaled(row.loq)


def sample_out(row: PersonalSample, employee_no: str, config: HealthConfig) -> SampleOut:
    sub = load_catalogue().substance(row.substance)
    value, loq = twa_8h(row, config.profile)
    used = oel_of(row.substance, config.profile)
    limit = None
    ratio = None
    verdict: Literal["exceeds", "within", "below_loq", "no_limit"] = "no_limit"
    if used is not None:
        limit = LimitOut(value=used.value, unit=used.unit, kind="twa", source=used.label)
        if value is not None:
            ratio = value / used.value
            verdict = "exceeds" if value > used.value else "within"
        else:
            verdict = "below_loq"
    hours = (row.end_ms - row.start_ms) / 3.6e6
    notes = []
    if hours < 8.0:
        notes.append(f"sampled {hours:.2f} h: the 8-h TWA takes the unsampled time as unexposed "
                     "(sample the whole exposure period, EN 689 §5.5.3)")
    return SampleOut(
        id=row.id, sample_id=row.sample_id, worker_id=row.worker_id, employee_no=employee_no,
        substance=row.substance, start_ms=row.start_ms, end_ms=row.end_ms, result=row.result, unit=row.unit,
        loq=row.loq, below_loq=row.below_loq, laboratory=row.laboratory, method=row.method,
        basis="personal_sample", twa_8h=value, loq_8h=loq, twa_unit=sub.unit, limit=limit, ratio=ratio,
        verdict=verdict, notes=notes)


def oel_of(substance: str, profile: str) -> LimitUsed | None:
    """The profile's 8-h TWA limit in the substance's unit (the reference period of a full-shift sample)."""
    sub = load_catalogue().substance(substance)
    applied = applicable_limit(substance, profile, "twa")
    return applied.used(sub.unit) if applied else None


def samples_of(session: Session, worker_id: int) -> list[PersonalSample]:
    return list(session.execute(select(PersonalSample).where(PersonalSample.worker_id == worker_id)
                                .order_by(PersonalSample.start_ms, PersonalSample.id)).scalars())


# -- CSV ------------------------------------------------------------------------------------------------------

def _when(text: str, tz: ZoneInfo) -> int:
    t = dt.datetime.fromisoformat(text.strip())
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz)
    return round(t.timestamp() * 1000)


def _number(text: str) -> float | None:
    text = text.strip()
    return None if text == "" else float(text)


def import_samples(session: Session, text: str, config: HealthConfig, *,
                   mode: Literal["atomic", "partial"], now_ms: int) -> ImportReport:
    """Import a laboratory's CSV. `atomic`: nothing when a row is wrong; `partial`: the good rows. Every wrong
    row is reported with its line and field."""
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return ImportReport(0, 0, (RowError(1, missing[0], "required column missing from the header"),))
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        return ImportReport(0, 0, (RowError(1, unknown[0], "unknown column"),))
    tz = ZoneInfo(config.timezone)
    errors: list[RowError] = []
    good: list[tuple[Worker, SampleIn]] = []
    seen: set[str] = set()
    rows = 0
    for line, raw in enumerate(reader, start=2):
        rows += 1
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        field = "sample_id"
        try:
            worker = session.execute(
                select(Worker).where(Worker.employee_no == row["employee_no"])).scalar_one_or_none()
            if worker is None:
                raise SampleError("employee_no", f"no worker {row['employee_no']!r}")
            field = "start"
            start = _when(row["start"], tz)
            field = "end"
            end = _when(row["end"], tz)
            result_text = row.get("result", "")
            below = result_text.lower() in ("<loq", "< loq", "nd", "<lod")
            field = "result"
            result = None if below else _number(result_text)
            field = "loq"
            loq = _number(row.get("loq", ""))
            body = SampleIn(sample_id=row["sample_id"], employee_no=row["employee_no"], substance=row["substance"],
                            start_ms=start, end_ms=end, result=result, unit=row["unit"], loq=loq, below_loq=below,
                            laboratory=row.get("laboratory", ""), method=row.get("method", ""))
            if body.sample_id in seen:
                raise SampleError("sample_id", f"sample {body.sample_id!r} appears twice in the file")
            check(session, body)
        except SampleError as exc:
            errors.append(RowError(line, exc.field, exc.reason))
            continue
        except ValueError as exc:
            errors.append(RowError(line, field, str(exc).splitlines()[0][:200]))
            continue
        seen.add(body.sample_id)
        good.append((worker, body))
    if errors and mode == "atomic":
        return ImportReport(rows, 0, tuple(errors))
    for worker, body in good:
        add(session, worker, body, now_ms=now_ms)
    return ImportReport(rows, len(good), tuple(errors))

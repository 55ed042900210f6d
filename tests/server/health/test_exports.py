"""Exports: the PDF read back as text holds the record's figures, the same data give the same documents, and the
CSV/JSON exports carry the records."""

from __future__ import annotations

import csv
import io
import json

from pypdf import PdfReader

from .conftest import Env, at, two_zone_plant


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_pdf_export_read_back_holds_the_right_figures(env: Env) -> None:
    """The worker's PDF names the worker, the TWA 15 ppm, the coverage, the limit's source and the zones."""
    wid = two_zone_plant(env, gap_b=(at(12), at(13)))
    env.compute()
    (rec,) = env.ok("GET", f"/workers/{wid}/exposure-records")
    pdf = env.ok("GET", f"/workers/{wid}/export.pdf").content
    assert pdf.startswith(b"%PDF")
    text = _text(pdf)
    assert "Occupational health file: W1" in text
    assert "TWA 8h 15 ppm" in text
    assert "87.5 %" in text
    assert "GBZ 2.1-2019" in text
    assert f"{rec['limit']['value']:g} ppm" in text
    assert "2025-03-03 07:00" in text and "2025-03-03 11:00" in text
    assert "no_data" in text and "2025-03-03 12:00" in text  # the gap
    assert "co: TWA 8h per shift" in text  # the chart


def test_same_data_gives_the_same_documents(env: Env) -> None:
    """Two exports of unchanged data are byte-identical (PDF, JSON, CSV, zone report)."""
    wid = two_zone_plant(env)
    env.compute()
    for path in (f"/workers/{wid}/export.pdf", f"/workers/{wid}/export.json", f"/workers/{wid}/export.csv",
                 "/zones/A/report.pdf?month=2025-03"):
        first = env.ok("GET", path)
        first = first.content if hasattr(first, "content") else json.dumps(first)
        env.clock.now += 60_000
        second = env.ok("GET", path)
        second = second.content if hasattr(second, "content") else json.dumps(second)
        assert first == second, path


def test_safety_manager_pdf_withholds_exams(env: Env) -> None:
    """The PDF for a role without medical access says exams are withheld and shows none."""
    wid = two_zone_plant(env)
    env.ok("POST", f"/workers/{wid}/exams", json={"exam_type": "periodic", "status": "done",
                                                 "exam_date": "2025-03-01", "findings": "SECRET-FINDING"})
    sm = _text(env.ok("GET", f"/workers/{wid}/export.pdf", role="safety_manager").content)
    rk = _text(env.ok("GET", f"/workers/{wid}/export.pdf").content)
    assert "withheld" in sm and "SECRET-FINDING" not in sm
    assert "SECRET-FINDING" in rk


def test_zone_report_holds_the_daily_figures(env: Env) -> None:
    """Zone A's March report: 10 ppm daily mean on the seeded day, the sensor, and the records' verdicts."""
    two_zone_plant(env)
    env.compute()
    text = _text(env.ok("GET", "/zones/A/report.pdf?month=2025-03").content)
    assert "Monthly monitoring report: zone A, 2025-03" in text
    assert "plant-a/a-co" in text
    assert "2025-03-03\n10\n10\n10\n50.0 %" in text  # 05:00-17:00 of readings: half the day
    assert "2025-03-04\n-\n-\n-\n0.0 %" in text
    assert "co\nwithin\n1" in text


def test_csv_and_json_exports_carry_the_records(env: Env) -> None:
    """The CSV has one row per current record with its figures; the JSON is the whole file."""
    wid = two_zone_plant(env)
    env.compute()
    rows = list(csv.DictReader(io.StringIO(env.ok("GET", f"/workers/{wid}/export.csv").text)))
    assert len(rows) == 1 and float(rows[0]["twa"]) == 15.0 and rows[0]["employee_no"] == "W1"
    assert float(rows[0]["coverage"]) == 1.0 and rows[0]["limit_source"].startswith("GBZ 2.1-2019")
    body = env.ok("GET", f"/workers/{wid}/export.json")
    assert body["schema"] == "hazmon.health-file/1" and body["exposure_records"][0]["twa"] == 15.0
    assert [a["zone"] for a in body["assignments"]] == ["A", "B"]

"""Exports: the PDF read back as text holds the record's figures, the same data give the same documents, and the
CSV/JSON exports carry the records."""

from __future__ import annotations

import csv
import io
import json

import pytest
from pypdf import PdfReader

from exposure.results import Coverage
from exposure.segments import Segment, Series
from server.health.record_series import downsample

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
    assert "Each shift's series against its limit" in text
    assert "co: shift 2025-03-03 07:00 - 15:00 (ppm)" in text and "area_presence:" in text


def test_a_shift_chart_leaves_gaps_open() -> None:
    """The chart's points are time-weighted bucket means; a bucket without valid data is None, never bridged."""
    s = Series("ppm", (Segment(0, 3_600_000, 10.0), Segment(7_200_000, 10_800_000, 20.0)),
                Coverage(0, 10_800_000, 7200.0))
    points = downsample(s, points=3)
    assert points == [(0, 10.0), (3_600_000, None), (7_200_000, 20.0)]
    half = downsample(Series("ppm", (Segment(0, 1_800_000, 10.0), Segment(1_800_000, 3_600_000, 30.0)),
                             Coverage(0, 3_600_000, 3600.0)), points=1)
    assert half == [(0, 20.0)]


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
    assert rows[0]["shift_start"] == "2025-03-03T07:00:00Z" and rows[0]["shift_end"] == "2025-03-03T15:00:00Z"
    assert rows[0]["basis"] == "area_presence"
    assignments = list(csv.DictReader(io.StringIO(env.ok("GET", f"/workers/{wid}/export.csv?part=assignments").text)))
    assert [(a["start"], a["end"]) for a in assignments] == [("2025-03-03T07:00:00Z", "2025-03-03T11:00:00Z"),
                                                             ("2025-03-03T11:00:00Z", "2025-03-03T15:00:00Z")]
    body = env.ok("GET", f"/workers/{wid}/export.json")
    assert body["schema"] == "hazmon.health-file/1" and body["exposure_records"][0]["twa"] == 15.0
    assert [a["zone"] for a in body["assignments"]] == ["A", "B"]


def _fonts(pdf: bytes) -> dict[str, bool]:
    """Each font the PDF uses, and whether its glyphs are embedded in the file."""
    found: dict[str, bool] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in (page["/Resources"].get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            for d in font.get("/DescendantFonts") or []:
                descriptor = descriptor or d.get_object().get("/FontDescriptor")
            embedded = descriptor is not None and any(
                k in descriptor.get_object() for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font["/BaseFont"])] = embedded
    return found


def test_pdf_embeds_the_font_of_chinese_names_and_numbers_its_pages(env: Env) -> None:
    """A Chinese name is set in an embedded font (never empty boxes on a viewer without an Asian font pack);
    every page says "page n of m"; the file ends with a sign-off block."""
    a = env.sensor("a-co")
    env.steady(a, "co", "ppm", 10.0, at(5), at(17))
    env.zone("A", ["a-co"], ["co"])
    wid = env.worker("C1", name="张伟 Wei Zhang")
    env.roster("employee_no,date,shift,zone,post,start,end\nC1,2025-03-03,day,A,,,\n")
    env.compute()
    pdf = env.ok("GET", f"/workers/{wid}/export.pdf").content
    text = _text(pdf)
    assert "张伟" in text and "Wei Zhang" in text  # the Latin part of a mixed name in a font that has it
    cjk = [name for name in _fonts(pdf) if "DroidSansFallback" in name]
    assert cjk and all(_fonts(pdf)[name] for name in cjk), _fonts(pdf)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    assert f"page 1 of {pages}" in text and f"page {pages} of {pages}" in text
    assert "Review and sign-off" in text and "Occupational health professional" in text


def test_pdf_shows_the_dose_where_a_dose_criterion_applies(osha_env: Env) -> None:
    """D3: under us-osha the noise record prints its dose and the OSHA TWA beside the 90 dB(A) limit (= 100 %)."""
    n = osha_env.sensor("press-noise")
    osha_env.readings(n, "laeq", "dB(A)", [(t, 92.0) for t in range(at(7) + 1000, at(15) + 1000, 1000)],
                      interval_s=1.0)
    osha_env.zone("P", ["press-noise"], ["noise"])
    wid = osha_env.worker("N1")
    osha_env.roster("employee_no,date,shift,zone,post,start,end\nN1,2025-03-03,day,P,,,\n")
    osha_env.compute()
    (rec,) = osha_env.ok("GET", f"/workers/{wid}/exposure-records")
    assert rec["dose_percent"] == pytest.approx(100 * 2 ** (2 / 5), abs=0.01)  # 131.95 %
    text = " ".join(_text(osha_env.ok("GET", f"/workers/{wid}/export.pdf").content).split())
    assert f"Dose {rec['dose_percent']:.1f} % (osha-pel, TWA 92.0 dB(A))" in text
    assert "100 % dose = 90 dB(A) 8-h TWA" in text
    assert "noise: Dose % per shift" in text

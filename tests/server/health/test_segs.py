"""Laboratory personal samples and similar exposure groups (issue 12): samples entered and imported with a
row-by-row report; a SEG's EN 689 profile from personal samples (the reference file's worked example) and from
area-derived records, kept apart; its PDF and CSV report; who may see it."""

from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader

from .conftest import Env, at, two_zone_plant

H = 3_600_000
EXAMPLE = (0.3, 0.5, 0.8, 1.2, 0.6, 0.9)  # shared/reference/exposure-assessment.md: n 6, GM 0.6533, GSD 1.6314


def _text(pdf: bytes) -> str:
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())


def _samples_csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    lines = ["sample_id,employee_no,substance,start,end,result,unit,loq,laboratory,method"]
    for sid, emp, day, result in rows:
        lines.append(f"{sid},{emp},co,{day}T07:00:00Z,{day}T15:00:00Z,{result},ppm,0.05,Lab A,NIOSH 6604")
    return ("\n".join(lines) + "\n").encode()


def _import(env: Env, body: bytes, mode: str = "atomic") -> dict:
    return env.ok("POST", f"/samples/import?mode={mode}", content=body, headers={"content-type": "text/csv"})


def _seg_with_samples(env: Env) -> int:
    env.zone("A", [], ["co"])
    for emp in ("S1", "S2", "S3"):
        env.worker(emp)
    rows = [(f"L-{i}", f"S{i % 3 + 1}", f"2025-03-{i + 3:02d}", str(v)) for i, v in enumerate(EXAMPLE)]
    report = _import(env, _samples_csv(rows))
    assert report == {"rows": 6, "imported": 6, "errors": []}
    seg = env.ok("POST", "/segs", json={"name": "Furnace operators", "hazards": ["co"],
                                        "workers": ["S1", "S2", "S3"], "description": "charging and tapping"})
    assert seg["members"] == ["S1", "S2", "S3"]
    return seg["id"]


def test_a_seg_of_personal_samples_reproduces_the_worked_example(env: Env) -> None:
    seg_id = _seg_with_samples(env)
    out = env.ok("GET", f"/segs/{seg_id}/assessment", params={"hazard": "co"}, role="safety_manager")
    p = out["assessment"]
    assert p["basis"] == "personal_sample" and p["screening"] is False and p["n"] == 6
    a = p["assessment"]
    assert a["test"] == "statistical"
    assert a["gm"] == pytest.approx(0.6533, abs=1e-4) and a["gsd"] == pytest.approx(1.6314, abs=1e-4)
    assert a["p95"] == pytest.approx(1.4614, abs=1e-3) and a["k"] == pytest.approx(2.187, abs=1e-3)
    assert a["utl95_70"] == pytest.approx(1.9053, abs=1e-3)
    oel = out["oel"]["value"]
    assert out["oel"]["unit"] == "ppm" and out["oel"]["source"].startswith("GBZ 2.1-2019")
    assert a["verdict"] == ("compliant" if a["utl95_70"] < oel else "non_compliant")
    assert a["aiha_category"] in (0, 1, 2, 3, 4) and a["exceedance_fraction"] < 0.05
    assert p["next_reassessment"] is not None
    assert {r["basis"] for r in p["results"]} == {"personal_sample"}
    assert sorted(r["value"] for r in p["results"]) == sorted(EXAMPLE)
    assert out["other"][0]["basis"] == "area_derived" and out["other"][0]["n"] == 0


def test_a_seg_of_area_derived_results_is_shown_apart_and_marked(env: Env) -> None:
    """Three workers' computed records (15, 10, 20 ppm from zone monitors and presence): the area-derived profile,
    marked as screening; the personal-sample profile stays empty and says why."""
    two_zone_plant(env)  # W1: 4 h in A (10 ppm), 4 h in B (20 ppm)
    env.worker("W2")
    env.worker("W3")
    env.roster("employee_no,date,shift,zone,post,start,end\nW2,2025-03-03,day,A,,,\nW3,2025-03-03,day,B,,,\n")
    env.compute()
    seg = env.ok("POST", "/segs", json={"name": "Zone A and B", "hazards": ["co"], "zones": ["A", "B"]})
    assert seg["members"] == ["W1", "W2", "W3"]
    out = env.ok("GET", f"/segs/{seg['id']}/assessment", params={"hazard": "co", "basis": "area_derived"})
    p = out["assessment"]
    assert p["basis"] == "area_derived" and p["screening"] is True and p["n"] == 3
    assert sorted(r["value"] for r in p["results"]) == pytest.approx([10.0, 15.0, 20.0])
    assert {r["basis"] for r in p["results"]} == {"area_presence"}
    a = p["assessment"]
    oel = out["oel"]["value"]
    assert a["test"] == "preliminary"
    assert a["verdict"] == ("non_compliant" if oel < 20.0 else "inconclusive")
    assert any("screening" in n for n in a["notes"])
    personal = out["other"][0]
    assert personal["basis"] == "personal_sample" and personal["assessment"] is None
    assert "at least 3" in personal["reason"]
    text = _text(env.ok("GET", f"/segs/{seg['id']}/report.pdf", params={"hazard": "co", "basis": "area_derived"})
                 .content)
    assert "Area-derived results (screening): n = 3" in text and f"Verdict: {a['verdict']}" in text
    assert "Screening data: fixed-point monitors" in text and "area_presence" in text


def test_seg_reports_show_both_profiles_with_each_results_basis(env: Env) -> None:
    seg_id = _seg_with_samples(env)
    pdf = env.ok("GET", f"/segs/{seg_id}/report.pdf", params={"hazard": "co"}).content
    text = _text(pdf)
    assert "Similar exposure group assessment: Furnace operators" in text
    assert "Log-probability plot" in text and "Results in time order" in text
    assert "Personal samples: n = 6" in text and "Area-derived results (screening): n = 0" in text
    assert "UTL95,70" in text and "EN 689:2018" in text and "sample:L-0" in text
    rows = list(csv.DictReader(io.StringIO(env.ok("GET", f"/segs/{seg_id}/report.csv",
                                                  params={"hazard": "co"}).text)))
    assert len(rows) == 6 and {r["basis"] for r in rows} == {"personal_sample"}
    assert rows[0]["start"] == "2025-03-03T07:00:00Z" and rows[0]["ref"] == "sample:L-0"


def test_below_loq_samples_are_censored_not_zero(env: Env) -> None:
    """One result below the LoQ among six: it is carried censored (the method is named), never as 0."""
    env.zone("A", [], ["co"])
    wid = env.worker("S1")
    for i, v in enumerate((0.3, 0.5, 0.8, 1.2, 0.6)):
        env.ok("POST", f"/workers/{wid}/samples", json={
            "sample_id": f"M-{i}", "substance": "co", "start_ms": at(7) + i * 24 * H, "end_ms": at(15) + i * 24 * H,
            "result": v, "unit": "ppm", "loq": 0.1, "laboratory": "Lab A", "method": "NIOSH 6604"})
    low = env.ok("POST", f"/workers/{wid}/samples", json={
        "sample_id": "M-5", "substance": "co", "start_ms": at(7) + 5 * 24 * H, "end_ms": at(15) + 5 * 24 * H,
        "below_loq": True, "loq": 0.2, "unit": "ppm"})
    assert low["verdict"] == "below_loq" and low["twa_8h"] is None and low["loq_8h"] == pytest.approx(0.2)
    seg = env.ok("POST", "/segs", json={"name": "S1 alone", "hazards": ["co"], "workers": ["S1"]})
    a = env.ok("GET", f"/segs/{seg['id']}/assessment", params={"hazard": "co"})["assessment"]["assessment"]
    assert a["n"] == 6 and a["n_below_loq"] == 1 and a["loq_method"] == "censored_mle"
    # the file shows the samples beside the records, each with its basis
    f = env.ok("GET", f"/workers/{wid}/file")
    assert [s["sample_id"] for s in f["samples"]] == [f"M-{i}" for i in range(6)]
    assert {s["basis"] for s in f["samples"]} == {"personal_sample"}


def test_sample_import_reports_each_bad_row_and_atomic_imports_nothing(env: Env) -> None:
    env.worker("S1")
    body = (b"sample_id,employee_no,substance,start,end,result,unit,loq\n"
            b"A-1,S1,co,2025-03-03T07:00:00Z,2025-03-03T15:00:00Z,1.5,ppm,0.1\n"
            b"A-2,NOBODY,co,2025-03-03T07:00:00Z,2025-03-03T15:00:00Z,1.5,ppm,0.1\n"
            b"A-3,S1,co,2025-03-03T07:00:00Z,2025-03-03T06:00:00Z,1.5,ppm,0.1\n"
            b"A-4,S1,co,2025-03-03T07:00:00Z,2025-03-03T15:00:00Z,-1,ppm,0.1\n"
            b"A-5,S1,co,2025-03-03T07:00:00Z,2025-03-03T15:00:00Z,<LoQ,ppm,\n"
            b"A-6,S1,noise,2025-03-03T07:00:00Z,2025-03-03T15:00:00Z,1,ppm,\n"
            b"A-7,S1,co,yesterday,2025-03-03T15:00:00Z,1,ppm,\n"
            b"A-8,S1,co,2025-03-03T07:00:00Z,2025-03-03T15:00:00Z,1,furlongs,\n")
    report = _import(env, body)
    assert report["rows"] == 8 and report["imported"] == 0
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (3, "employee_no"), (4, "end"), (5, "result"), (6, "loq"), (7, "substance"), (8, "start"), (9, "unit")]
    partial = _import(env, body, mode="partial")
    assert partial["imported"] == 1
    again = _import(env, body, mode="partial")
    assert again["imported"] == 0 and (2, "sample_id") in [(e["line"], e["field"]) for e in again["errors"]]


def test_who_may_see_and_change_segs(env: Env) -> None:
    seg_id = _seg_with_samples(env)
    assert env.call("worker", "GET", f"/segs/{seg_id}/assessment", params={"hazard": "co"}).status_code == 403
    assert env.call("facilities", "GET", "/segs").status_code == 403
    assert env.call("safety_manager", "POST", "/segs", json={"name": "x", "hazards": ["co"],
                                                            "workers": ["S1"]}).status_code == 403
    assert env.call("auditor", "GET", f"/segs/{seg_id}").status_code == 200
    assert env.call("record_keeper", "GET", f"/segs/{seg_id}/assessment",
                    params={"hazard": "noise"}).status_code == 422
    assert env.call("record_keeper", "GET", f"/segs/{seg_id}/assessment",
                    params={"hazard": "co", "from": "2025-03-09", "to": "2025-03-01"}).status_code == 422
    dup = env.call("record_keeper", "POST", "/segs", json={"name": "Furnace operators", "hazards": ["co"],
                                                           "workers": ["S1"]})
    assert dup.status_code == 409
    # a period narrows the results
    out = env.ok("GET", f"/segs/{seg_id}/assessment", params={"hazard": "co", "from": "2025-03-03",
                                                               "to": "2025-03-05"})
    assert out["assessment"]["n"] == 3 and out["assessment"]["assessment"]["test"] == "preliminary"

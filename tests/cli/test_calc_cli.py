"""`hazmon calc` and `hazmon limits` through typer's CliRunner (brief §5), each against a published example."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from hazmon.calc_cli import calc_app, limits_app

app = typer.Typer()
app.add_typer(calc_app, name="calc")
app.add_typer(limits_app, name="limits")
runner = CliRunner()


def run(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def fail(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    return result.output


def test_calc_noise_osha_appendix_a() -> None:
    """TV-N1 (OSHA App. A worked example [R6]): 4 h@90, 2 h@95, 2 h@85 -> 112.5 %, 90.85 dBA (80-dB threshold)."""
    out = run("calc", "noise", "--criterion", "osha-hc", "--segment", "90:4h", "--segment", "95:2h",
              "--segment", "85:2h", "--json")
    assert out["dose_percent"] == pytest.approx(112.5) and out["twa_db"] == pytest.approx(90.85, abs=0.005)
    assert out["limit_db"] == 85 and out["exceeds"] is True


def test_calc_noise_osha_pel_92() -> None:
    """TV-N2 [R7]: 8 h @ 92 dBA -> 131.95 % against the 90 dBA PEL (1910.95 Table G-16)."""
    out = run("calc", "noise", "--criterion", "osha-pel", "--segment", "92:8h", "--json")
    assert out["dose_percent"] == pytest.approx(131.95, abs=0.01) and out["limit_db"] == 90 and out["exceeds"]


def test_calc_noise_niosh() -> None:
    """TV-N13 (NIOSH, derived): 4 h@85, 2 h@91, 2 h@88 -> 200 %, 88.01 dBA."""
    out = run("calc", "noise", "--criterion", "niosh", "--segment", "85:4h", "--segment", "91:2h",
              "--segment", "88:2h", "--json")
    assert out["dose_percent"] == pytest.approx(200) and out["twa_db"] == pytest.approx(88.01, abs=0.005)


def test_calc_noise_iso_lex() -> None:
    """TV-N9 (HK LEP,d [R12]): 3 h@88 + 5 h@81 -> 84.99 dB(A), under the 87 dB(A) limit of 2003/10/EC."""
    out = run("calc", "noise", "--criterion", "iso", "--segment", "88:3h", "--segment", "81:5h", "--json")
    assert out["lex_8h_db"] == pytest.approx(84.99, abs=0.01) and out["limit_db"] == 87 and not out["exceeds"]


def test_calc_noise_gbz_reports_annex_b() -> None:
    """TV-N10/TV-N18: 4 h @ 90 -> LEX,8h 86.99 over the GBZ 85 dB(A); Annex B reference limit for 4 h is 88."""
    out = run("calc", "noise", "--criterion", "gbz", "--segment", "90:240min", "--json")
    assert out["lex_8h_db"] == pytest.approx(86.99, abs=0.005) and out["exceeds"]
    assert out["annex_b_reference_limit_db"] == pytest.approx(88)


def test_calc_twa_osha_example() -> None:
    """TV-C1 (1910.1000(d) example [R40]): 2 h@150, 2 h@75, 4 h@50 ppm -> 81.25 ppm, ratio 0.8125."""
    out = run("calc", "twa", "--segment", "150:2h", "--segment", "75:2h", "--segment", "50:4h",
              "--limit", "100", "--json")
    assert (out["twa"], out["limit"], out["ratio"], out["exceeds"]) == (81.25, 100, 0.8125, False)


def test_calc_twa_brief_scala_takes_the_factor_from_the_shift_length() -> None:
    """D4: `--segment 50:10h --adjust brief-scala` applies RF = (8/10)(24-10)/16 = 0.7 without --reference-h."""
    out = run("calc", "twa", "--segment", "50:10h", "--limit", "60", "--adjust", "brief-scala", "--json")
    assert out["adjustment_factor"] == pytest.approx(0.7) and out["shift_h"] == pytest.approx(10)
    assert out["limit"] == pytest.approx(42.0) and out["exceeds"] is True
    assert out["twa"] == pytest.approx(62.5)  # 50 x 10 h / 8 h
    plain = run("calc", "twa", "--segment", "50:10h", "--limit", "60", "--json")
    assert plain["adjustment_factor"] == 1.0 and plain["limit"] == 60


def test_calc_twa_brief_scala_over_a_day_exits_2() -> None:
    out = fail("calc", "twa", "--segment", "50:30h", "--limit", "60", "--adjust", "brief-scala")
    assert "--adjust" in out and "24 h" in out


def test_calc_twa_with_substance_and_profile_names_the_source() -> None:
    """TV-C11 (China CTWA): 2 h@12 + 6 h@4 mg/m3 -> 6.0 against the GBZ 2.1-2019 NH3 PC-TWA 20 mg/m3."""
    out = run("calc", "twa", "--segment", "12:2h", "--segment", "4:6h", "--substance", "nh3", "--profile", "cn",
              "--json")
    assert out["twa"] == pytest.approx(6.0) and out["limit"] == 20 and out["ratio"] == pytest.approx(0.3)
    assert out["limit_source"]["source"].startswith("GBZ 2.1-2019") and out["limit_source"]["mark"] == "secondary"


def test_calc_stel_short_exposure() -> None:
    """TV-C10 (China CSTE [R17c]): 5 min @ 30 mg/m3 -> 10 mg/m3 over 15 min; under the CO PC-STEL of 30."""
    out = run("calc", "stel", "--segment", "30:5min", "--substance", "co", "--profile", "cn", "--json")
    assert out["stel"] == pytest.approx(10.0) and out["limit"] == 30 and out["exceeds"] is False


def test_calc_peak_gbz_rule() -> None:
    """TV-C9 (GBZ 2.1-2019 peak rule [R18]): a 20-min episode above 3 x PC-TWA breaks the 15-min rule."""
    out = run("calc", "peak", "--pc-twa", "10", "--segment", "5:1h", "--segment", "40:20min", "--json")
    assert out["ok"] is False and [v["rule"] for v in out["violations"]] == ["episode-over-15-min"]


def test_calc_peak_gbz_rule_for_a_dust_from_the_catalogue() -> None:
    """GBZ 2.1-2019 (dust, PC-TWA only): other dust 8 mg/m3 total (UNVERIFIED mark) -> never above 40 mg/m3."""
    out = run("calc", "peak", "--substance", "dust_other", "--profile", "cn", "--segment", "41:1min", "--json")
    assert out["ok"] is False and out["never_above"] == 40 and out["limit_source"]["mark"] == "unverified"


def test_calc_peak_osha_z2() -> None:
    """OSHA Table Z-2 toluene [R33]: C 300, one 10-min peak up to 500 ppm is acceptable."""
    out = run("calc", "peak", "--substance", "toluene", "--profile", "us-osha", "--segment", "100:4h",
              "--segment", "450:10min", "--segment", "100:3h", "--json")
    assert out["ok"] is True and out["rule"] == "osha-z2-peak"


def test_calc_peak_refuses_a_substance_with_a_stel() -> None:
    """GBZ 2.1-2019: the peak rule is for substances with only a PC-TWA; CO has a PC-STEL, so exit 2."""
    assert "--substance" in fail("calc", "peak", "--substance", "co", "--profile", "cn", "--segment", "10:1h")


def test_calc_mixture() -> None:
    """TV-C2 (1910.1000(d)(2) example [R40]): 0.500 + 0.225 + 0.200 = 0.925."""
    out = run("calc", "mixture", "--component", "500:1000", "--component", "45:200", "--component", "40:200",
              "--json")
    assert out["index"] == pytest.approx(0.925) and out["exceeds"] is False


@pytest.mark.parametrize(("args", "value", "vm"), [
    (("--substance", "benzene", "--value", "1", "--from", "ppm"), 3.19, 24.45),
    (("--substance", "toluene", "--value", "100", "--from", "ppm", "--profile", "us-osha"), 376.85, 24.45),
    (("--substance", "nh3", "--value", "50", "--from", "mg/m3"), 71.785, 24.45),
    (("--substance", "co", "--value", "20", "--from", "ppm", "--profile", "eu"), 23.3, 24.06),
])
def test_calc_convert(args: tuple[str, ...], value: float, vm: float) -> None:
    """TV-C5, TV-C6, TV-C7, TV-C8 (NPG [R32a], BAMS [R43b], Teesing [R43c], EU 20 degC): ppm <-> mg/m3."""
    out = run("calc", "convert", *args, "--json")
    assert out["value"] == pytest.approx(value, rel=5e-3) and out["molar_volume"] == vm


@pytest.mark.parametrize(("args", "names"), [
    (("calc", "twa", "--segment", "10:-4h", "--limit", "5"), "--segment"),
    (("calc", "twa", "--segment", "ten:4h", "--limit", "5"), "--segment"),
    (("calc", "twa", "--segment", "10:4 days", "--limit", "5"), "--segment"),
    (("calc", "noise", "--criterion", "who", "--segment", "90:8h"), "--criterion"),
    (("calc", "twa", "--segment", "10:8h", "--substance", "kryptonite", "--profile", "cn"), "--substance"),
    (("calc", "twa", "--segment", "10:8h", "--substance", "co", "--profile", "mars"), "--profile"),
    (("calc", "twa", "--segment", "10:8h", "--substance", "h2s", "--profile", "cn"), "--substance"),
    (("calc", "convert", "--substance", "co", "--value", "1", "--from", "ppb"), "--from"),
    (("calc", "mixture", "--component", "1:0"), "--component"),
    (("limits", "show", "kryptonite"), "SUBSTANCE"),
])
def test_bad_input_exits_2_naming_the_argument(args: tuple[str, ...], names: str) -> None:
    """Brief §5: bad input gives exit code 2 and a message naming the bad argument."""
    assert names in fail(*args)


def test_limits_list_shows_source_and_mark_of_every_row() -> None:
    """Brief §1: `hazmon limits` shows every value with its source and mark, unverified ones included."""
    out = run("limits", "list", "--json")
    assert len(out["limits"]) > 100
    assert all(row["citation"] and row["mark"] in ("verified", "secondary", "unverified") for row in out["limits"])
    assert any(row["mark"] == "unverified" for row in out["limits"])


def test_limits_show_marks_unverified_values_in_text() -> None:
    """Brief §1: an unverified value is never silent: the text output prints the mark and a warning."""
    result = runner.invoke(app, ["limits", "show", "h2s", "--profile", "eu"])
    assert result.exit_code == 0 and "[UNVERIFIED]" in result.stdout and "UNVERIFIED value" in result.stdout


def test_limits_show_with_overrides(tmp_path: Any) -> None:
    """config/limits.override.example.toml: a site row is shown with mark 'site' and its reason."""
    out = run("limits", "show", "toluene", "--profile", "cn", "--overrides", "config/limits.override.example.toml",
              "--json")
    twa = [r for r in out["limits"] if r["kind"] == "twa"]
    assert twa[0]["value"] == 40 and twa[0]["mark"] == "site"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[limit]]\nsubstance = "co"\n', encoding="utf-8")
    assert "--overrides" in fail("limits", "show", "co", "--profile", "cn", "--overrides", str(bad))


def _en689(*values: str) -> list[str]:
    return [arg for v in values for arg in ("--value", v)]


def test_calc_en689_statistical_worked_example() -> None:
    """Reference example: 12 25 8 30 18 15 22 9 against OEL 50 -> GM 15.782, GSD 1.6146, P95 34.705, K 2.072,
    UTL95,70 42.579, compliant, AIHA category 3."""
    out = run("calc", "en689", *_en689("12", "25", "8", "30", "18", "15", "22", "9"), "--oel", "50", "--json")
    for key in ("n", "test", "verdict", "gm", "gsd", "am", "p95", "k", "utl95_70", "exceedance_fraction",
                "exceedance_ci95_low", "exceedance_ci95_high", "aiha_category", "reassessment_months",
                "reassessment_basis", "loq_method", "reasons", "notes"):
        assert key in out
    assert (out["n"], out["test"], out["verdict"], out["aiha_category"]) == (8, "statistical", "compliant", 3)
    assert out["gm"] == pytest.approx(15.782, rel=5e-5) and out["gsd"] == pytest.approx(1.6146, rel=5e-5)
    assert out["p95"] == pytest.approx(34.705, rel=5e-5) and round(out["k"], 3) == 2.072
    assert out["utl95_70"] == pytest.approx(42.579, rel=5e-5)
    assert out["reassessment_basis"] == "unverified" and out["loq_method"] == "none"


def test_calc_en689_preliminary_with_below_loq() -> None:
    """Preliminary test: 0.2, 0.3 and one <LoQ 0.4 against OEL 5 -> compliant (all below 0.5), LoQ by censored MLE."""
    out = run("calc", "en689", *_en689("0.2", "0.3"), "--below-loq", "0.4", "--oel", "5", "--json")
    assert (out["test"], out["verdict"], out["n_below_loq"]) == ("preliminary", "compliant", 1)
    assert "0.10 x OEL" in out["reasons"][0]


def test_calc_en689_text_shows_table_verdict_and_reasons() -> None:
    """Human output: the statistics, the verdict and the reason in words."""
    result = runner.invoke(app, ["calc", "en689", *_en689("1.1", "0.4", "2.5", "0.9", "1.6", "3.2", "0.7", "1.3",
                                                          "2.0", "0.5"), "--oel", "4"])
    assert result.exit_code == 0, result.output
    assert "NON-COMPLIANT" in result.stdout and "UTL95,70" in result.stdout and "reason" in result.stdout


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (("calc", "en689", "--value", "1", "--value", "2", "--oel", "5"), "at least 3 results"),
        (("calc", "en689", "--value", "1", "--value", "-2", "--value", "3", "--oel", "5"), "--value"),
        (("calc", "en689", "--value", "1", "--value", "2", "--value", "3"), "--oel"),
        (("calc", "en689", "--value", "1", "--value", "2", "--value", "3", "--oel", "0"), "--oel"),
        (("calc", "en689", "--value", "1", "--value", "2", "--below-loq", "0", "--oel", "5"), "--below-loq"),
    ],
)
def test_calc_en689_bad_input_exits_2_with_one_line(args: tuple[str, ...], names: str) -> None:
    """Fewer than 3 results, a negative value, no or a bad OEL, a bad LoQ: exit 2 and one line on stderr."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and names in lines[0] and lines[0].startswith("error: ")


def test_calc_en689_docs_sample_csv_matches_docs() -> None:
    """docs/examples/seg-results.csv through `hazmon calc en689` prints the output shown in docs/exposure.md."""
    root = Path(__file__).resolve().parents[2]
    args: list[str] = []
    with (root / "docs/examples/seg-results.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            args += ["--below-loq" if row["below_loq"] == "true" else "--value", row["value_mg_m3"]]
    result = runner.invoke(app, ["calc", "en689", *args, "--oel", "1"])
    assert result.exit_code == 0, result.output
    docs = (root / "docs/exposure.md").read_text(encoding="utf-8")
    shown = docs.split("$ hazmon calc en689", 1)[1].split("```", 1)[0].split("\n", 2)[2]
    assert result.stdout.strip() == shown.strip()

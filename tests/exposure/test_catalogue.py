"""Catalogues, profiles, overrides and unit conversion (standards.md §2.4, §3.3, §4)."""

from __future__ import annotations

import json

import pytest

from exposure.catalogue import CatalogueError, build_catalogue, load_catalogue
from exposure.errors import InvalidInput
from exposure.profiles import applicable_limit, applicable_limits, get_profile, parse_overrides
from exposure.units import MOLAR_VOLUME_0C, MOLAR_VOLUME_20C, MOLAR_VOLUME_25C, convert_concentration, molar_volume_at

SUBS = {"schema": "hazmon.substances/1", "substances": [
    {"id": "co", "name_en": "Carbon monoxide", "name_zh": "一氧化碳", "cas": "630-08-0", "mw": 28.01,
     "family": "gas", "quantity": "co", "unit": "ppm"}]}
SRC = {"id": "x", "jurisdiction": "us", "document": "Doc", "edition": "1", "title": "t", "molar_volume": 24.45}


def limits_file(*rows: dict[str, object]) -> str:
    return json.dumps({"schema": "hazmon.limits/1", "source": SRC, "limits": list(rows)})


GOOD = {"substance": "co", "kind": "twa", "value": 50, "unit": "ppm", "clause": "Z-1", "mark": "verified"}


def test_packaged_catalogue_loads_with_every_section_4_substance() -> None:
    """standards.md §4.1/§4.2: every gas and dust listed there (and co2) is in the catalogue with its CAS and MW."""
    cat = load_catalogue()
    for sid in ("co", "h2s", "nh3", "cl2", "so2", "no2", "hcn", "benzene", "toluene", "hcho", "co2", "dust_other",
                "silica_crystalline", "coal_dust", "cement_dust", "welding_fume", "wood_dust"):
        assert sid in cat.substances
    assert cat.substance("benzene").cas == "71-43-2" and cat.substance("benzene").mw == 78.11
    assert cat.substance("h2s").name_zh == "硫化氢"
    assert set(cat.sources) == {"gbz-2.1-2019", "gbz-2.2-2007", "osha", "niosh", "eu"}


def test_every_row_cites_a_clause_and_carries_a_mark() -> None:
    """DESIGN §5: each value carries its source, edition and a verification mark."""
    for lim in load_catalogue().limits:
        assert lim.clause and lim.document and lim.edition
        assert lim.mark in {"verified", "secondary", "unverified"}


@pytest.mark.parametrize(("sid", "profile", "kind", "value", "unit", "mark"), [
    ("co", "us-osha", "twa", 50, "ppm", "verified"),
    ("co", "us-niosh", "ceiling", 200, "ppm", "verified"),
    ("co", "eu", "stel", 100, "ppm", "verified"),
    ("co", "cn", "twa", 20, "mg/m3", "secondary"),
    ("so2", "eu", "twa", 0.5, "ppm", "verified"),
    ("benzene", "us-niosh", "idlh", 500, "ppm", "verified"),
    ("hcho", "us-osha", "action_level", 0.5, "ppm", "verified"),
    ("h2s", "eu", "twa", 5, "ppm", "unverified"),
    ("hcho", "cn", "ceiling", 0.5, "mg/m3", "unverified"),
])
def test_catalogue_values_match_standards_md(sid: str, profile: str, kind: str, value: float, unit: str,
                                             mark: str) -> None:
    """standards.md §4.1 table: values and confidence markers (V -> verified, S -> secondary, else unverified)."""
    lim = applicable_limit(sid, profile, kind)  # type: ignore[arg-type]
    assert lim is not None
    assert (lim.value, lim.unit, lim.limit.mark) == (value, unit, mark)


def test_unverified_limit_says_so() -> None:
    """Brief: a profile lookup that returns only an unverified value must say so in its result."""
    lim = applicable_limit("h2s", "eu", "twa")
    assert lim is not None and lim.warning is not None and "UNVERIFIED" in lim.warning
    assert "UNVERIFIED" in lim.used().note


def test_strictest_names_the_lowest_source() -> None:
    """Profile strictest: benzene TWA is the NIOSH REL 0.1 ppm [R32a], and the others are listed."""
    lim = applicable_limit("benzene", "strictest", "twa")
    assert lim is not None and lim.value == 0.1 and lim.limit.source == "niosh"
    assert lim.warning is not None and "0.2 ppm" in lim.warning


def test_strictest_compares_after_unit_conversion() -> None:
    """Profile strictest: GBZ CO 20 mg/m3 (= 17.2 ppm at 24.06 L/mol) is lower than the EU 20 ppm."""
    lim = applicable_limit("co", "strictest", "twa")
    assert lim is not None and lim.limit.source == "gbz-2.1-2019"


def test_eu_benzene_boelv_by_date() -> None:
    """Directive 2004/37/EC Annex III [R44e]: 1 ppm until 5 Apr 2024, 0.5 until 5 Apr 2026, then 0.2 ppm."""
    import datetime as dt

    def on(d: str) -> float:
        lim = applicable_limit("benzene", "eu", "twa", on=dt.date.fromisoformat(d))
        assert lim is not None
        return lim.value

    assert (on("2023-01-01"), on("2025-01-01"), on("2026-05-01")) == (1, 0.5, 0.2)


def test_dust_lookup_prefers_respirable() -> None:
    """GBZ 2.1-2019 change summary [R16b]: where total and respirable PC-TWA exist, the respirable one comes first."""
    lim = applicable_limit("coal_dust", "cn", "twa")
    assert lim is not None and lim.limit.fraction == "respirable"


def test_variants_apply_only_when_asked() -> None:
    """GBZ 2.1-2019 silica by free-SiO2 band (UNVERIFIED): no default row; the band must be named."""
    assert applicable_limits("silica_crystalline", "cn") == ()
    band = applicable_limits("silica_crystalline", "cn", variant="sio2-10-50pct")
    assert {(a.limit.fraction, a.value) for a in band} == {("total", 1), ("respirable", 0.7)}


def test_unknown_profile_and_substance_are_refused() -> None:
    """Brief: unknown names give an error naming the argument."""
    with pytest.raises(InvalidInput) as exc:
        get_profile("mars")
    assert exc.value.path == "profile"
    with pytest.raises(InvalidInput) as exc:
        load_catalogue().substance("unobtainium")
    assert exc.value.path == "substance"


@pytest.mark.parametrize(("row", "where"), [
    ({**GOOD, "value": -1}, "limits[1].value"),
    ({**GOOD, "kind": "daily"}, "limits[1].kind"),
    ({**GOOD, "mark": "trust-me"}, "limits[1].mark"),
    ({**GOOD, "substance": "xx"}, "limits[1].substance"),
    ({**GOOD, "unit": "dB(A)"}, "limits[1].unit"),
    ({**GOOD, "colour": "red"}, "limits[1].colour"),
    ({k: v for k, v in GOOD.items() if k != "clause"}, "limits[1].clause"),
    ({**GOOD, "valid_from": "2024-13-01"}, "limits[1].valid_from"),
])
def test_bad_catalogue_file_names_file_row_and_field(row: dict[str, object], where: str) -> None:
    """Brief: a bad catalogue file gives an error naming the file, the row and the field."""
    ok = {**GOOD, "kind": "stel", "averaging_min": 15}
    with pytest.raises(CatalogueError) as exc:
        build_catalogue(json.dumps(SUBS), {"bad.json": limits_file(ok, row)})
    assert str(exc.value).startswith(f"bad.json: {where}")


def test_good_minimal_catalogue_builds() -> None:
    """The loader accepts a minimal valid file (so the rejection tests above test the field, not the file)."""
    cat = build_catalogue(json.dumps(SUBS), {"ok.json": limits_file(GOOD)})
    assert cat.limits[0].value == 50 and cat.limits[0].source == "x"


def test_site_override_replaces_and_is_marked() -> None:
    """config/limits.override.example.toml: a site row replaces the profile's and carries mark 'site' and reason."""
    with open("config/limits.override.example.toml", encoding="utf-8") as f:
        site = parse_overrides(f.read(), file="limits.override.example.toml")
    prof = get_profile("cn", overrides=site)
    lim = applicable_limit("toluene", prof, "twa")
    assert lim is not None and lim.value == 40 and lim.limit.mark == "site"
    assert "HS-12" in lim.limit.clause
    stel = applicable_limit("toluene", prof, "stel")
    assert stel is not None and stel.value == 100 and stel.limit.source == "gbz-2.1-2019"
    assert prof.molar_volume == 24.06


@pytest.mark.parametrize(("text", "where"), [
    ('[[limit]]\nsubstance = "co"\nkind = "twa"\nvalue = 10\nunit = "mg/m3"\n', "limit[0].reason"),
    ('[[limit]]\nsubstance = "co"\nkind = "twa"\nvalue = "ten"\nunit = "mg/m3"\nreason = "r"\n', "limit[0].value"),
    ('[profile]\nmolar_volume = 2.4\n', "profile.molar_volume"),
    ('[profile]\nbase = "moon"\n', "profile.base"),
    ('[limits]\n', "limits"),
])
def test_bad_override_file_is_refused(text: str, where: str) -> None:
    """Brief: site overrides are validated; the error names the file and the field."""
    with pytest.raises(CatalogueError) as exc:
        parse_overrides(text, file="site.toml")
    assert str(exc.value).startswith(f"site.toml: {where}")


@pytest.mark.parametrize(("value", "frm", "to", "mw", "vm", "expected"), [
    (1, "ppm", "mg/m3", 78.11, MOLAR_VOLUME_25C, 3.19),     # TV-C5 benzene, NPG [R32a]
    (100, "ppm", "mg/m3", 92.14, MOLAR_VOLUME_25C, 376.85),  # TV-C6 toluene [R43b]
    (50, "mg/m3", "ppm", 17.03, MOLAR_VOLUME_25C, 71.785),   # TV-C7 ammonia [R43c]
    (1, "ppm", "mg/m3", 78.11, MOLAR_VOLUME_20C, 3.247),     # TV-C8 EU 20 degC
    (20, "ppm", "mg/m3", 28.01, MOLAR_VOLUME_20C, 23.3),     # TV-C8
    (0.5, "ppm", "mg/m3", 64.07, MOLAR_VOLUME_20C, 1.33),    # TV-C8
    (0.3, "ppm", "mg/m3", 30.03, MOLAR_VOLUME_20C, 0.375),   # TV-C8
    (20, "mg/m3", "ppm", 28.01, MOLAR_VOLUME_25C, 17.46),    # TV-C12
    (20, "mg/m3", "ppm", 28.01, MOLAR_VOLUME_20C, 17.18),    # TV-C12
    (20, "mg/m3", "ppm", 28.01, MOLAR_VOLUME_0C, 16.00),     # TV-C12 (the vendor table's 16)
])
def test_ppm_mg_conversions(value: float, frm: str, to: str, mw: float, vm: float, expected: float) -> None:
    """CCOHS mg/m3 = ppm x MW / Vm [R43a]; TV-C5..C8 and TV-C12 (published and derived)."""
    assert convert_concentration(value, frm, to, mw=mw, molar_volume=vm) == pytest.approx(expected, rel=5e-3)


def test_ug_and_ppb_conversions() -> None:
    """Unit identities: 1 mg/m3 = 1000 ug/m3; 1 ppm = 1000 ppb."""
    assert convert_concentration(50, "ug/m3", "mg/m3") == pytest.approx(0.05)
    assert convert_concentration(2, "ppm", "ppb") == pytest.approx(2000)


def test_molar_volumes_follow_the_ideal_gas_law() -> None:
    """standards.md §2.4: 24.45 L/mol at 25 degC, 24.06 at 20 degC, 22.41 at 0 degC (101.325 kPa)."""
    assert molar_volume_at(25) == pytest.approx(24.45, abs=0.02)  # 24.465; 24.45 is the conventional figure
    assert molar_volume_at(20, 101.3) == pytest.approx(24.06, abs=0.01)
    assert molar_volume_at(0) == pytest.approx(22.41, abs=0.01)


def test_profiles_carry_their_molar_volume() -> None:
    """standards.md §2.4: US 24.45, EU 24.06; China configurable (default 24.06, documented)."""
    assert get_profile("us-osha").molar_volume == 24.45
    assert get_profile("eu").molar_volume == 24.06
    assert get_profile("cn").molar_volume == 24.06

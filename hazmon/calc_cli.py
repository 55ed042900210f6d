"""`hazmon calc ...` and `hazmon limits ...`: the exposure calculator and the limit catalogue, a thin edge over
exposure/. All arithmetic lives in exposure; this module parses arguments, reads the override file it is given,
prints. Bad input exits with code 2 and a message naming the argument."""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from exposure.catalogue import Catalogue, Kind, Limit, load_catalogue
from exposure.chemical import gbz_peak_rule, mixture_index, osha_z2_peaks, stel, twa
from exposure.en689 import BelowLoq, ShiftResult, assess_seg
from exposure.errors import InvalidInput
from exposure.noise import DOSE_CRITERIA, LEX_CRITERIA, gbz_reference_limit_db, lex_8h, noise_dose
from exposure.profiles import (
    PROFILE_NAMES,
    AppliedLimit,
    Profile,
    applicable_limit,
    applicable_limits,
    get_profile,
    parse_overrides,
)
from exposure.results import Coverage, LimitUsed
from exposure.segments import Series, parse_pair, parse_segment, series_from_durations
from exposure.units import MOLAR_VOLUME_25C, convert_concentration

calc_app = typer.Typer(help="Exposure calculator: noise dose, TWA, STEL, peaks, mixtures, unit conversion, "
                       "EN 689 group assessment.",
                       no_args_is_help=True)
limits_app = typer.Typer(help="Limit catalogues: every value with its source and verification mark.",
                         no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]
SegmentsOpt = Annotated[
    list[str],
    typer.Option("--segment", help="VALUE:DURATION, consecutive from the start of the shift (4h, 30min, 90s)."),
]
ProfileOpt = Annotated[str | None, typer.Option("--profile", help=f"One of {', '.join(PROFILE_NAMES)}.")]
SubstanceOpt = Annotated[str | None, typer.Option("--substance", help="Substance id (see `hazmon limits list`).")]
OverridesOpt = Annotated[Path | None, typer.Option("--overrides", help="Site override file (TOML).")]


def _fail(arg: str, message: str) -> NoReturn:
    typer.echo(f"error: {arg}: {message}", err=True)
    raise typer.Exit(2)


def _out(data: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        typer.echo("\n".join(lines))


def _series(segments: list[str], unit: str) -> Series:
    if not segments:
        _fail("--segment", "at least one --segment VALUE:DURATION is needed")
    items = []
    for text in segments:
        try:
            items.append(parse_segment(text))
        except InvalidInput as exc:
            _fail("--segment", exc.reason)
    return series_from_durations(items, unit=unit)


def _profile(name: str | None, overrides: Path | None, catalogue: Catalogue) -> Profile | None:
    if name is None:
        return None
    site = None
    if overrides is not None:
        try:
            site = parse_overrides(overrides.read_text(encoding="utf-8"), file=str(overrides), catalogue=catalogue)
        except OSError as exc:
            _fail("--overrides", str(exc))
        except InvalidInput as exc:
            _fail("--overrides", str(exc))
    try:
        return get_profile(name, overrides=site)
    except InvalidInput as exc:
        _fail("--profile", exc.reason)


def _substance(catalogue: Catalogue, sid: str) -> None:
    try:
        catalogue.substance(sid)
    except InvalidInput as exc:
        _fail("--substance", exc.reason)


def _coverage(cov: Coverage) -> dict[str, Any]:
    return {
        "fraction": cov.fraction,
        "covered_s": cov.covered_s,
        "period_s": cov.period_s,
        "excluded_readings": cov.excluded_readings,
        "gaps": [asdict(g) for g in cov.gaps],
    }


def _limit_json(limit: LimitUsed | None) -> dict[str, Any] | None:
    return None if limit is None else asdict(limit) | {"label": limit.label}


def _resolve_limit(
    kind: Kind, limit: float | None, substance: str | None, profile: str | None, overrides: Path | None,
    fraction: str | None,
) -> AppliedLimit | float | None:
    """--limit L, or --substance with --profile (never both)."""
    if limit is not None and substance is not None:
        _fail("--limit", "give either --limit or --substance with --profile, not both")
    if limit is not None:
        if not math.isfinite(limit) or limit <= 0:
            _fail("--limit", f"must be a positive number, got {limit}")
        return limit
    if substance is None:
        if profile is not None:
            _fail("--substance", "--profile needs --substance")
        return None
    cat = load_catalogue()
    _substance(cat, substance)
    prof = _profile(profile, overrides, cat)
    if prof is None:
        _fail("--profile", "--substance needs --profile")
    if fraction not in (None, "total", "respirable", "inhalable"):
        _fail("--fraction", f"{fraction!r} is not total, respirable or inhalable")
    applied = applicable_limit(substance, prof, kind, fraction=fraction, catalogue=cat)  # type: ignore[arg-type]
    if applied is None:
        have = sorted({a.limit.kind for a in applicable_limits(substance, prof, catalogue=cat)})
        _fail("--substance", f"{substance} has no {kind} limit in profile {prof.name} "
              f"(it has: {', '.join(have) or 'none'})")
    return applied


def _unit(unit: str | None, resolved: AppliedLimit | float | None) -> str:
    if unit is not None:
        if unit not in ("ppm", "ppb", "mg/m3", "ug/m3"):
            _fail("--unit", f"{unit!r} is not ppm, ppb, mg/m3 or ug/m3")
        return unit
    return resolved.unit if isinstance(resolved, AppliedLimit) else "(as given)"


@calc_app.command("noise")
def calc_noise(
    criterion: Annotated[str, typer.Option("--criterion", help="osha-pel, osha-hc, niosh, iso or gbz.")],
    segment: SegmentsOpt,
    shift_h: Annotated[float, typer.Option("--shift-h", help="Shift length for the projection, hours.")] = 8.0,
    as_json: JsonOpt = False,
) -> None:
    """Noise dose and TWA (OSHA, NIOSH) or LEX,8h (ISO 9612, GBZ) from LEVEL:DURATION segments in dB(A)."""
    if criterion not in DOSE_CRITERIA and criterion not in LEX_CRITERIA:
        _fail("--criterion", f"unknown criterion {criterion!r} (known: {', '.join((*DOSE_CRITERIA, *LEX_CRITERIA))})")
    if not math.isfinite(shift_h) or shift_h <= 0:
        _fail("--shift-h", "must be a positive number of hours")
    series = _series(segment, "dB(A)")
    if criterion in DOSE_CRITERIA:
        d = noise_dose(series, criterion=criterion, shift_h=shift_h)
        data: dict[str, Any] = {
            "criterion": criterion, "dose_percent": d.dose_percent, "twa_db": d.twa_db,
            "limit_db": d.limit.value if d.limit else None, "exceeds": d.exceeds, "verdict": d.verdict,
            "projected_dose_percent": d.projected_dose_percent, "projected_twa_db": d.projected_twa_db,
            "limit": _limit_json(d.limit), "coverage": _coverage(d.coverage),
        }
        twa_txt = "n/a (zero dose)" if d.twa_db is None else f"{d.twa_db:.2f} dB(A)"
        lines = [f"criterion     {DOSE_CRITERIA[criterion].title}",
                 f"dose          {d.dose_percent:.2f} %", f"TWA           {twa_txt}"]
    else:
        x = lex_8h(series, criterion=criterion, shift_h=shift_h)
        data = {
            "criterion": criterion, "lex_8h_db": x.lex_8h_db, "laeq_db": x.laeq_db, "exposure_h": x.exposure_h,
            "limit_db": x.limit.value if x.limit else None, "exceeds": x.exceeds, "verdict": x.verdict,
            "limit": _limit_json(x.limit), "coverage": _coverage(x.coverage),
        }
        if criterion == "gbz":
            data["annex_b_reference_limit_db"] = gbz_reference_limit_db(x.exposure_h)
        lex_txt = "n/a" if x.lex_8h_db is None else f"{x.lex_8h_db:.2f} dB(A)"
        lines = [f"criterion     {LEX_CRITERIA[criterion].title}", f"LEX,8h        {lex_txt}"]
    lim = data["limit"]
    lines += [f"limit         {data['limit_db']} dB(A)  ({lim['label'] if lim else 'none'})",
              f"exceeds       {'YES' if data['exceeds'] else 'no'}"]
    _out(data, as_json, lines)


def _chem_common(limit: LimitUsed | None) -> list[str]:
    if limit is None:
        return ["limit         none given"]
    lines = [f"limit         {limit.value:g} {limit.unit}  ({limit.label})"]
    if limit.note:
        lines.append(f"note          {limit.note}")
    return lines


LimitOpt = Annotated[float | None, typer.Option("--limit", help="Limit value, in the segments' unit.")]
UnitOpt = Annotated[str | None, typer.Option("--unit", help="Unit of the segments (default: the limit's unit).")]
FractionOpt = Annotated[str | None, typer.Option("--fraction", help="Dust fraction: total, respirable, inhalable.")]


@calc_app.command("twa")
def calc_twa(
    segment: SegmentsOpt,
    limit: LimitOpt = None,
    substance: SubstanceOpt = None,
    profile: ProfileOpt = None,
    unit: UnitOpt = None,
    fraction: FractionOpt = None,
    reference_h: Annotated[float, typer.Option("--reference-h", help="Averaging time, hours (8 = 8-h TWA).")] = 8.0,
    adjust: Annotated[str, typer.Option("--adjust", help="none or brief-scala (opt-in, shifts > 8 h).")] = "none",
    overrides: OverridesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """8-h TWA = sum(Ci x Ti) / 8 h (or a shift TWA with --reference-h), against a limit."""
    if adjust not in ("none", "brief-scala"):
        _fail("--adjust", f"{adjust!r} is not none or brief-scala")
    if not math.isfinite(reference_h) or not 0 < reference_h <= 24:
        _fail("--reference-h", "must be between 0 and 24 hours")
    resolved = _resolve_limit("twa", limit, substance, profile, overrides, fraction)
    u = _unit(unit, resolved)
    series = _series(segment, u)
    shift_h = series.coverage.period_s / 3600.0  # the hours worked: the segments, end to end
    if adjust == "brief-scala" and not 0 < shift_h <= 24:
        _fail("--adjust", f"brief-scala needs a shift of at most 24 h; the segments last {shift_h:g} h")
    try:
        r = twa(series, limit=resolved, reference_h=reference_h, shift_h=shift_h,
                adjustment="brief-scala" if adjust == "brief-scala" else "none")
    except InvalidInput as exc:
        _fail("--unit", str(exc))
    data = {"twa": r.twa, "unit": r.unit, "limit": r.limit.value if r.limit else None, "ratio": r.ratio,
            "exceeds": r.exceeds, "verdict": r.verdict, "reference_h": r.reference_h,
            "adjustment_factor": r.adjustment_factor, "shift_h": shift_h, "limit_source": _limit_json(r.limit),
            "coverage": _coverage(r.coverage)}
    lines = [f"TWA ({reference_h:g} h)   {r.twa:.4g} {r.unit}", *_chem_common(r.limit)]
    if adjust == "brief-scala":
        lines.append(f"Brief & Scala {r.adjustment_factor:.4g} for a {shift_h:g}-h shift")
    if r.ratio is not None:
        lines.append(f"ratio         {r.ratio:.3f}")
    lines.append(f"exceeds       {'YES' if r.exceeds else 'no'}")
    _out(data, as_json, lines)


@calc_app.command("stel")
def calc_stel(
    segment: SegmentsOpt,
    limit: LimitOpt = None,
    substance: SubstanceOpt = None,
    profile: ProfileOpt = None,
    unit: UnitOpt = None,
    overrides: OverridesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """STEL: the highest 15-min TWA (an exposure shorter than 15 min is averaged over 15 min)."""
    resolved = _resolve_limit("stel", limit, substance, profile, overrides, None)
    u = _unit(unit, resolved)
    try:
        r = stel(_series(segment, u), limit=resolved)
    except InvalidInput as exc:
        _fail("--unit", str(exc))
    data = {"stel": r.value, "unit": r.unit, "limit": r.limit.value if r.limit else None, "ratio": r.ratio,
            "exceeds": r.exceeds, "verdict": r.verdict, "window_start_s": None if r.window_start_ms is None
            else r.window_start_ms / 1000.0, "limit_source": _limit_json(r.limit)}
    lines = [f"STEL (15 min) {r.value:.4g} {r.unit}", *_chem_common(r.limit),
             f"exceeds       {'YES' if r.exceeds else 'no'}"]
    _out(data, as_json, lines)


@calc_app.command("peak")
def calc_peak(
    segment: SegmentsOpt,
    substance: SubstanceOpt = None,
    profile: ProfileOpt = "cn",
    pc_twa: Annotated[float | None, typer.Option("--pc-twa", help="PC-TWA, instead of --substance.")] = None,
    fraction: FractionOpt = None,
    overrides: OverridesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Peak rules: GBZ 2.1-2019 peak exposure (--profile cn, substances with only a PC-TWA) or OSHA Z-2
    acceptable peaks above the ceiling (--profile us-osha)."""
    if pc_twa is not None:
        if substance is not None:
            _fail("--pc-twa", "give either --pc-twa or --substance, not both")
        if not math.isfinite(pc_twa) or pc_twa <= 0:
            _fail("--pc-twa", "must be a positive number")
        r = gbz_peak_rule(_series(segment, "mg/m3"), pc_twa=pc_twa)
    else:
        if substance is None:
            _fail("--substance", "give --substance (with --profile) or --pc-twa")
        cat = load_catalogue()
        _substance(cat, substance)
        prof = _profile(profile, overrides, cat)
        assert prof is not None
        if fraction not in (None, "total", "respirable", "inhalable"):
            _fail("--fraction", f"{fraction!r} is not total, respirable or inhalable")
        found = applicable_limits(substance, prof, fraction=fraction, catalogue=cat)  # type: ignore[arg-type]
        kinds = {a.limit.kind for a in found}
        if prof.name == "cn":
            tw = [a for a in found if a.limit.kind == "twa"]
            if not tw:
                _fail("--substance", f"{substance} has no PC-TWA in profile cn")
            if kinds & {"stel", "ceiling"}:
                _fail("--substance", f"{substance} has a PC-STEL or MAC in profile cn: the peak rule applies only "
                      "to substances with a PC-TWA alone (use `hazmon calc stel`)")
            chosen = next((a for a in tw if a.limit.fraction == "respirable"), tw[0])
            r = gbz_peak_rule(_series(segment, chosen.unit), pc_twa=chosen)
        elif prof.name == "us-osha":
            ceil = next((a for a in found if a.limit.kind == "ceiling"), None)
            peak = next((a for a in found if a.limit.kind == "peak"), None)
            if ceil is None or peak is None:
                _fail("--substance", f"{substance} has no Z-2 ceiling with an acceptable peak in us-osha")
            r = osha_z2_peaks(_series(segment, ceil.unit), ceiling_limit=ceil, peak_limit=peak,
                              max_minutes=peak.limit.averaging_min or 10.0, max_count=peak.limit.max_count or 1)
        else:
            _fail("--profile", "peak rules exist for cn (GBZ 2.1-2019) and us-osha (Table Z-2)")
    data = {"ok": r.ok, "rule": r.rule, "violations": [asdict(v) for v in r.violations],
            "episodes": [asdict(e) for e in r.episodes], "threshold": r.threshold, "never_above": r.never_above,
            "unit": r.unit, "limit_source": _limit_json(r.limit)}
    lines = [f"rule          {r.rule}", f"threshold     {r.threshold:g} {r.unit}; never above {r.never_above:g}",
             f"episodes      {len(r.episodes)}", f"ok            {'yes' if r.ok else 'NO'}"]
    lines += [f"violation     {v.rule}: {v.detail}" for v in r.violations]
    _out(data, as_json, lines)


@calc_app.command("mixture")
def calc_mixture(
    component: Annotated[list[str], typer.Option("--component", help="CONC:LIMIT, same unit within a pair.")],
    as_json: JsonOpt = False,
) -> None:
    """Mixture index sum(Ci/Li); above 1 exceeds."""
    pairs = []
    for text in component:
        try:
            c, rest = parse_pair(text, what="component")
            lim = float(rest)
        except (InvalidInput, ValueError):
            _fail("--component", f"{text!r} is not CONC:LIMIT")
        if c < 0 or not math.isfinite(lim) or lim <= 0:
            _fail("--component", f"{text!r}: the concentration must be >= 0 and the limit > 0")
        pairs.append((c, lim))
    if not pairs:
        _fail("--component", "at least one --component CONC:LIMIT is needed")
    r = mixture_index(pairs)
    data = {"index": r.index, "exceeds": r.exceeds, "terms": [asdict(t) for t in r.terms]}
    lines = [f"{t.concentration:g}/{t.limit:g} = {t.ratio:.4g}" for t in r.terms]
    lines += [f"index         {r.index:.4g}", f"exceeds       {'YES' if r.exceeds else 'no'}"]
    _out(data, as_json, lines)


@calc_app.command("convert")
def calc_convert(
    substance: Annotated[str, typer.Option("--substance", help="Substance id.")],
    value: Annotated[float, typer.Option("--value", help="The value to convert.")],
    from_unit: Annotated[str, typer.Option("--from", help="ppm or mg/m3.")],
    profile: ProfileOpt = None,
    molar_volume: Annotated[
        float | None, typer.Option("--molar-volume", help="L/mol, overrides the profile's.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """ppm <-> mg/m3 with the profile's molar volume (default 24.45 L/mol, 25 degC)."""
    cat = load_catalogue()
    _substance(cat, substance)
    sub = cat.substance(substance)
    if from_unit not in ("ppm", "mg/m3"):
        _fail("--from", f"{from_unit!r} is not ppm or mg/m3")
    if sub.mw is None:
        _fail("--substance", f"{substance} has no molecular weight (a dust?), so ppm does not apply")
    if not math.isfinite(value) or value < 0:
        _fail("--value", "must be a non-negative number")
    prof = _profile(profile, None, cat)
    vm = molar_volume if molar_volume is not None else (prof.molar_volume if prof else MOLAR_VOLUME_25C)
    if not math.isfinite(vm) or not 20 <= vm <= 30:
        _fail("--molar-volume", "must be between 20 and 30 L/mol")
    to = "mg/m3" if from_unit == "ppm" else "ppm"
    out = convert_concentration(value, from_unit, to, mw=sub.mw, molar_volume=vm)
    data = {"value": out, "unit": to, "molar_volume": vm, "mw": sub.mw, "substance": substance,
            "from": {"value": value, "unit": from_unit}}
    _out(data, as_json, [f"{value:g} {from_unit} {substance} = {out:.4g} {to}  (MW {sub.mw}, Vm {vm} L/mol)"])


def _num(x: float | None, digits: int = 4) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


@calc_app.command("en689")
def calc_en689(
    value: Annotated[list[float] | None, typer.Option("--value", help="A shift result (> 0); repeat it.")] = None,
    below_loq: Annotated[
        list[float] | None, typer.Option("--below-loq", help="A result below the LoQ: give the LoQ, repeat.")
    ] = None,
    oel: Annotated[float | None, typer.Option("--oel", help="The OEL, in the results' unit.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """EN 689:2018 assessment of a similar exposure group: preliminary (3-5 results) or statistical test (6+),
    GM, GSD, P95, UTL95,70, exceedance fraction, AIHA category."""
    values = list(value or [])
    loqs = list(below_loq or [])
    if oel is None:
        _fail("--oel", "an OEL is needed (--oel L, in the results' unit)")
    if not math.isfinite(oel) or oel <= 0:
        _fail("--oel", f"must be a positive number, got {oel}")
    for v in values:
        if not math.isfinite(v) or v <= 0:
            _fail("--value", f"a result must be a positive number, got {v}")
    for q in loqs:
        if not math.isfinite(q) or q <= 0:
            _fail("--below-loq", f"a LoQ must be a positive number, got {q}")
    if len(values) + len(loqs) < 3:
        _fail("--value", f"EN 689 needs at least 3 results (--value or --below-loq), got {len(values) + len(loqs)}")
    results: list[ShiftResult] = [*values, *(BelowLoq(q) for q in loqs)]
    try:
        a = assess_seg(results, oel=oel)
    except InvalidInput as exc:
        _fail("--value", str(exc))
    data = asdict(a) | {"reasons": list(a.reasons), "notes": list(a.notes)}
    ci = ("n/a" if a.exceedance_ci95_low is None or a.exceedance_ci95_high is None
          else f"{100 * a.exceedance_ci95_low:.3g} - {100 * a.exceedance_ci95_high:.3g} %")
    ef = "n/a" if a.exceedance_fraction is None else f"{100 * a.exceedance_fraction:.3g} %"
    lines = [
        f"results       n={a.n} ({a.n_below_loq} below LoQ, method {a.loq_method})   OEL {a.oel:g}",
        f"GM            {_num(a.gm)}        GSD  {_num(a.gsd)}",
        f"AM            {_num(a.am)}        P95  {_num(a.p95)}",
        f"K             {a.k:.3f}       UTL95,70  {_num(a.utl95_70)}",
        f"exceedance    {ef}  (95 % CI {ci})",
        f"AIHA category {'n/a' if a.aiha_category is None else a.aiha_category}",
        f"overexposure  {100 * a.overexposure_risk:.3g} %  (Bayesian P(P95 > OEL), uniform prior)",
        f"test          {a.test}",
        f"verdict       {a.verdict.upper().replace('_', '-')}",
    ]
    if a.reassessment_months is not None:
        lines.append(f"reassess      within {a.reassessment_months} months ({a.reassessment_basis} thresholds)")
    lines += [f"reason        {r}" for r in a.reasons] + [f"note          {x}" for x in a.notes]
    _out(data, as_json, lines)


# -- limits --------------------------------------------------------------------------------------------------


def _row_json(lim: Limit, warning: str | None = None) -> dict[str, Any]:
    d = asdict(lim)
    for k in ("valid_from", "valid_until"):
        d[k] = None if d[k] is None else d[k].isoformat()
    d["citation"] = lim.citation
    if warning:
        d["warning"] = warning
    return d


def _row_text(lim: Limit, warning: str | None = None) -> str:
    extra = [x for x in (lim.fraction, lim.variant, f"{lim.averaging_min:g} min" if lim.averaging_min else None,
                         *lim.notes) if x]
    valid = ""
    if lim.valid_from or lim.valid_until:
        valid = f" valid {lim.valid_from or ''}..{lim.valid_until or ''}"
    text = (f"  {lim.substance:<20} {lim.kind:<18} {lim.value:>9g} {lim.unit:<6} "
            f"{'(' + ', '.join(extra) + ')' if extra else '':<28} {lim.citation} [{lim.mark.upper()}]{valid}")
    if warning:
        text += f"\n      ! {warning}"
    return text


@limits_app.command("list")
def limits_list(profile: ProfileOpt = None, overrides: OverridesOpt = None, as_json: JsonOpt = False) -> None:
    """Every limit (or every limit that applies in --profile) with its source and mark."""
    cat = load_catalogue()
    prof = _profile(profile, overrides, cat)
    rows: list[tuple[Limit, str | None]] = []
    if prof is None:
        rows = [(lim, None) for lim in cat.limits]
    else:
        for sid in cat.substances:
            rows += [(a.limit, a.warning) for a in applicable_limits(sid, prof, catalogue=cat)]
    if as_json:
        typer.echo(json.dumps({"profile": prof.name if prof else None,
                               "limits": [_row_json(lim, w) for lim, w in rows]}, ensure_ascii=False, indent=2))
        return
    head = f"profile {prof.name}: {prof.title}; molar volume {prof.molar_volume_note}" if prof else "all sources"
    typer.echo(head)
    for lim, w in rows:
        typer.echo(_row_text(lim, w))


@limits_app.command("show")
def limits_show(
    substance: Annotated[str, typer.Argument(help="Substance id.")],
    profile: ProfileOpt = None,
    overrides: OverridesOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One substance: names, CAS, molecular weight and its limits with source and mark."""
    cat = load_catalogue()
    try:
        sub = cat.substance(substance)
    except InvalidInput as exc:
        _fail("SUBSTANCE", exc.reason)
    prof = _profile(profile, overrides, cat)
    if prof is None:
        rows: list[tuple[Limit, str | None]] = [(lim, None) for lim in cat.limits_of(substance)]
    else:
        rows = [(a.limit, a.warning) for a in applicable_limits(substance, prof, catalogue=cat)]
        variants = sorted({lim.variant for lim in cat.limits_of(substance, prof.sources) if lim.variant})
        if variants:
            rows += [(lim, None) for lim in cat.limits_of(substance, prof.sources) if lim.variant]
    data = {"substance": asdict(sub), "profile": prof.name if prof else None,
            "limits": [_row_json(lim, w) for lim, w in rows]}
    lines = [f"{sub.id}: {sub.name_en} / {sub.name_zh}  CAS {sub.cas or '-'}  MW {sub.mw or '-'}  ({sub.family})"]
    if sub.comment:
        lines.append(f"  {sub.comment}")
    lines += [_row_text(lim, w) for lim, w in rows] or ["  no limits"]
    _out(data, as_json, lines)


__all__ = ["calc_app", "limits_app"]

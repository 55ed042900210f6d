"""Documented meter formats, as default options for the serial_lines source. A user value always wins."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    # NTi Audio XL2 (USB CDC, SCPI-like): MEAS:SLM:123? LAEQ answers e.g. "53.8 dB, OK" (reply format from
    # third-party code, UNVERIFIED); before the first integration the level is dashes (not a number).
    # LAEQ is the running Leq of the current measurement (INIT START); set the field's interval_s if you
    # restart the measurement every poll.
    "nti_xl2_laeq": {
        "format": "regex",
        "pattern": r"^\s*(?P<laeq>\S+)\s*dB\s*,\s*(?P<status>\w+)",
        "command": "MEAS:SLM:123? LAEQ\n",
        "fields": {"laeq": {"quantity": "laeq", "unit": "dB(A)"}},
    },
    # Rion NL-43/NL-53 (RS-232C, USB CDC or LAN): DOD? answers a result line R+0000 then a CSV data line
    # (Rion guide No. 66132 as transcribed by serversdwn/slmm; field order UNVERIFIED: check it on a meter).
    "rion_nl43_dod": {
        "format": "csv",
        "command": "DOD?\r\n",
        "skip_pattern": r"^R\+0000$",
        "error_pattern": r"^R\+000[1-4]$",
        "columns": ["lp", "leq", "le", "lmax", "lmin", "l1", "l2", "l3", "l4", "l5", "lpeak"],
        "fields": {"leq": {"quantity": "laeq", "unit": "dB(A)"}, "lpeak": {"quantity": "lcpeak", "unit": "dB(C)"}},
    },
    # A meter that prints its A-weighted level on each line: "65.3 dBA", "dBA 65.3", "65.3 dB(A)", "65.3".
    # No public source defines this format; it is the common shape of cheap meters' serial output.
    "dba_line": {
        "format": "regex",
        "pattern": r"^\s*(?:dB\(?A\)?\s*[:=]?\s*)?(?P<laeq>[-+]?\d+(?:\.\d+)?)\s*(?:dB\(?A\)?)?\s*$",
        "fields": {"laeq": {"quantity": "laeq", "unit": "dB(A)"}},
    },
}

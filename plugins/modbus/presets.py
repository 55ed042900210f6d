"""Register maps of common cheap RS-485 transmitters. Evidence is thin (no vendor datasheet was found): public
sketches poll device 1, function 03, register 0, value x10, at 9600 8N1 (protocols.md §4.1). Check the map of
your device's manual and override `registers`."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, list[dict[str, Any]]] = {
    # noise transmitter: holding register 0 = dB(A) x 10 (sketches M1405_Arduino, smart-building rs485)
    "noise_rs485": [{"quantity": "laeq", "unit": "dB(A)", "address": 0, "scale": 0.1}],
    # "GEMHO" noise sensor: register 0x000E (a sketch found in code search)
    "noise_rs485_gemho": [{"quantity": "laeq", "unit": "dB(A)", "address": 0x0E, "scale": 0.1}],
    # dust transmitter: PM2.5 then PM10 in µg/m³ in holding registers 0 and 1 (UNVERIFIED)
    "dust_rs485": [
        {"quantity": "pm2_5", "unit": "ug/m3", "address": 0},
        {"quantity": "pm10", "unit": "ug/m3", "address": 1},
    ],
    # single-gas transmitters: the concentration in holding register 0, ppm x 10 (UNVERIFIED)
    "co_rs485": [{"quantity": "co", "unit": "ppm", "address": 0, "scale": 0.1}],
    "h2s_rs485": [{"quantity": "h2s", "unit": "ppm", "address": 0, "scale": 0.1}],
    "o2_rs485": [{"quantity": "o2", "unit": "%vol", "address": 0, "scale": 0.1}],
}

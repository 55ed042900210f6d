"""Payload conventions a site may already have on its broker (protocols.md §6). A preset fills in `topics`,
`sensor` and `mappings`; any of them given in the config wins (explicit `mappings` replace the preset's).
Every preset mapping is `if_missing = "skip"`: a device publishes only the objects of the sensors it has."""

from __future__ import annotations

from typing import Any

_PM = "ug/m3"
_COUNT = "count/0.1L"


def _m(path: str, quantity: str, unit: str) -> dict[str, Any]:
    return {"path": path, "quantity": quantity, "unit": unit, "if_missing": "skip"}


PRESETS: dict[str, dict[str, Any]] = {
    # Tasmota telemetry, tele/<device>/SENSOR, keys from xsns_18_pms5003.ino, xsns_20_novasds.ino, xsns_15_mhz19.ino.
    # PMS5003: CF1/CF2.5/CF10 are the CF=1 ("standard particle") values, as the plantower plugin's default;
    # PM1/PM2.5/PM10 (atmospheric) are not mapped. PB* are particle counts per 0.1 L.
    "tasmota": {
        "topics": ["tele/+/SENSOR"],
        "sensor": "{topic[1]}",
        "mappings": [
            _m("PMS5003.CF1", "pm1", _PM),
            _m('PMS5003."CF2.5"', "pm2_5", _PM),
            _m("PMS5003.CF10", "pm10", _PM),
            _m('PMS5003."PB0.3"', "pc_0_3", _COUNT),
            _m('PMS5003."PB0.5"', "pc_0_5", _COUNT),
            _m("PMS5003.PB1", "pc_1_0", _COUNT),
            _m('PMS5003."PB2.5"', "pc_2_5", _COUNT),
            _m("PMS5003.PB5", "pc_5_0", _COUNT),
            _m("PMS5003.PB10", "pc_10", _COUNT),
            # PMS5003T builds send these in place of PB5/PB10 (UNVERIFIED on a device)
            _m("PMS5003.Temperature", "temperature", "degC"),
            _m("PMS5003.Humidity", "humidity", "%RH"),
            _m('SDS0X1."PM2.5"', "pm2_5", _PM),
            _m("SDS0X1.PM10", "pm10", _PM),
            _m("MHZ19B.CarbonDioxide", "co2", "ppm"),
        ],
    },
    # Zigbee2MQTT: flat JSON on zigbee2mqtt/<friendly_name>, keys named after the device's exposes.
    "zigbee2mqtt": {
        "topics": ["zigbee2mqtt/+"],
        "sensor": "{topic[1]}",
        "mappings": [
            _m("pm1", "pm1", _PM),
            _m("pm25", "pm2_5", _PM),
            _m("pm10", "pm10", _PM),
            _m("co2", "co2", "ppm"),
            _m("temperature", "temperature", "degC"),
            _m("humidity", "humidity", "%RH"),
        ],
    },
}

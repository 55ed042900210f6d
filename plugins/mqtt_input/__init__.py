"""MQTT input: readings from JSON payloads on a site broker (Tasmota, Zigbee2MQTT, custom mappings)."""

from agent import hookimpl
from plugins.mqtt_input.source import MqttInputSource


@hookimpl
def hazmon_agent_source_types() -> list[type]:
    return [MqttInputSource]

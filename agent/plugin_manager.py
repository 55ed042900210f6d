"""The agent's plugins: its hook specs, its built-ins by module name, third-party plugins from the `hazmon.agent`
entry-point group, and the two kinds of declaration (source classes, alarm output classes). Loading and asking
each plugin alone is `pluginhost`'s, shared with the server; a plugin that fails is reported and skipped."""

from __future__ import annotations

import logging
import os
from typing import Final

import pluginhost
from agent import hookspecs
from agent.alarms.outputs import AlarmOutput
from agent.sources import Source
from pluginhost import PluginFailure

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hazmon.agent"
BUILTIN_PLUGINS: tuple[str, ...] = (
    "plugins.simulator",
    "plugins.plantower",
    "plugins.sds011",
    "plugins.winsen",
    "plugins.serial_lines",
    "plugins.modbus",
    "plugins.mqtt_input",
    "plugins.alarm_log",
    "plugins.modbus_relay",
)
SOURCES: Final = pluginhost.Kind("hazmon_agent_source_types", Source, "type_name", "source")
ALARM_OUTPUTS: Final = pluginhost.Kind("hazmon_agent_alarm_outputs", AlarmOutput, "type_name", "alarm output")

__all__ = ["ALARM_OUTPUTS", "BUILTIN_PLUGINS", "ENTRY_POINT_GROUP", "SOURCES", "PluginFailure", "PluginHost",
           "build_plugin_manager"]


class PluginHost(pluginhost.PluginHost):
    """The agent's loaded plugins and what they declare."""

    def source_types(self) -> dict[str, type[Source]]:
        """Every declared source class by its `type_name` (the `type` of a `[[sources]]` table)."""
        return self.types(SOURCES)

    def alarm_output_types(self) -> dict[str, type[AlarmOutput]]:
        """Every declared alarm output class by its `type_name` (the `type` of an entry in `outputs`)."""
        return self.types(ALARM_OUTPUTS)


def build_plugin_manager(
    *, load_entry_points: bool = True, blocked: tuple[str, ...] = (), extra_modules: tuple[str, ...] = ()
) -> PluginHost:
    """Specs, blocked names, built-ins, entry points, `check_pending()`, then every plugin's declarations.

    `HAZMON_TRACE_PLUGINS=1` logs every hook call.
    """
    return pluginhost.build(
        project=hookspecs.PROJECT,
        hookspecs=hookspecs,
        builtins=BUILTIN_PLUGINS,
        entry_point_group=ENTRY_POINT_GROUP,
        kinds=(SOURCES, ALARM_OUTPUTS),
        host_type=PluginHost,
        blocked=blocked,
        extra_modules=extra_modules,
        load_entry_points=load_entry_points,
        trace=log.debug if os.environ.get("HAZMON_TRACE_PLUGINS") else None,
    )

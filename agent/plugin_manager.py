"""Building the agent's plugin manager: specs, built-ins by module name, third-party plugins from the
`hazmon.agent` entry-point group. A plugin that fails to import or to declare is reported and skipped."""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import pluggy

from agent import hookspecs
from agent.sources import Source

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


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    error: str


@dataclass
class PluginHost:
    """The plugin manager plus what went wrong while loading it."""

    pm: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)

    def plugin_names(self) -> list[str]:
        return sorted(name for name, plugin in self.pm.list_name_plugin() if name is not None and plugin is not None)

    def source_types(self) -> dict[str, type[Source]]:
        """Every declared source class by its type name. Each plugin is asked alone, so one broken
        declaration is reported and the rest still load."""
        types: dict[str, type[Source]] = {}
        for impl in self.pm.hook.hazmon_agent_source_types.get_hookimpls():
            try:
                declared = list(impl.function())
                for cls in declared:
                    if not (isinstance(cls, type) and issubclass(cls, Source)) or not getattr(
                        cls, "type_name", ""
                    ):
                        raise TypeError(f"{cls!r} is not a Source class with a type_name")
                    if cls.type_name in types and types[cls.type_name] is not cls:
                        raise ValueError(f"source type {cls.type_name!r} is declared twice")
            except Exception as exc:  # a broken plugin is reported, never fatal
                self.failures.append(PluginFailure(impl.plugin_name, f"{type(exc).__name__}: {exc}"))
                log.error("plugin %s: source declaration failed: %s", impl.plugin_name, exc)
                continue
            for cls in declared:
                types[cls.type_name] = cls
        return types


def build_plugin_manager(
    *, load_entry_points: bool = True, blocked: tuple[str, ...] = (), extra_modules: tuple[str, ...] = ()
) -> PluginHost:
    """Specs, blocked names, built-ins, entry points, then `check_pending()`.

    `HAZMON_TRACE_PLUGINS=1` logs every hook call.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm)
    for name in blocked:
        pm.set_blocked(name)
    for module_name in (*BUILTIN_PLUGINS, *extra_modules):
        _register(host, module_name, lambda m=module_name: importlib.import_module(m))
    if load_entry_points:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            _register(host, ep.name, ep.load)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        host.failures.append(PluginFailure(getattr(exc, "plugin_name", "?"), str(exc)))
    if os.environ.get("HAZMON_TRACE_PLUGINS"):
        pm.trace.root.setwriter(log.debug)
        pm.enable_tracing()
    return host


def _register(host: PluginHost, name: str, load: object) -> None:
    if host.pm.is_blocked(name):
        return
    try:
        module = load()  # type: ignore[operator]
        host.pm.register(module, name=name)
    except Exception as exc:
        host.failures.append(PluginFailure(name, f"{type(exc).__name__}: {exc}"))
        log.error("plugin %s could not be loaded and is skipped: %s", name, exc)

"""The server's plugin manager: specs, built-ins by module name, third-party plugins from the `hazmon.server`
entry-point group. A plugin that fails to import or to declare is reported and skipped, never fatal."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points

import pluggy

from server import hookspecs
from server.notify.channels import Channel

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hazmon.server"
BUILTIN_PLUGINS: tuple[str, ...] = ("server.notify.channels",)


@dataclass(frozen=True)
class PluginFailure:
    plugin: str
    error: str


@dataclass
class ServerPlugins:
    pm: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)

    def plugin_names(self) -> list[str]:
        return sorted(name for name, _ in self.pm.list_name_plugin() if name is not None)

    def notification_channels(self) -> dict[str, type]:
        """Every declared channel class by name; each plugin is asked alone."""
        out: dict[str, type] = {}
        for impl in self.pm.hook.hazmon_server_notification_channels.get_hookimpls():
            try:
                declared = list(impl.function())
                for cls in declared:
                    if not (isinstance(cls, type) and issubclass(cls, Channel)) or not getattr(cls, "name", ""):
                        raise TypeError(f"{cls!r} is not a Channel class with a name")
                    if cls.name in out and out[cls.name] is not cls:
                        raise ValueError(f"channel {cls.name!r} is declared twice")
            except Exception as exc:
                self.failures.append(PluginFailure(impl.plugin_name, f"{type(exc).__name__}: {exc}"))
                log.error("server plugin %s: channel declaration failed: %s", impl.plugin_name, exc)
                continue
            for cls in declared:
                out[cls.name] = cls
        return out


def build_server_plugins(*, load_entry_points: bool = True, blocked: tuple[str, ...] = (),
                         extra_modules: tuple[str, ...] = ()) -> ServerPlugins:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    host = ServerPlugins(pm)
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
    return host


def _register(host: ServerPlugins, name: str, load: object) -> None:
    if host.pm.is_blocked(name):
        return
    try:
        host.pm.register(load(), name=name)  # type: ignore[operator]
    except Exception as exc:
        host.failures.append(PluginFailure(name, f"{type(exc).__name__}: {exc}"))
        log.error("server plugin %s could not be loaded and is skipped: %s", name, exc)

"""The server's plugins: its hook specs, its built-ins by module name, third-party plugins from the `hazmon.server`
entry-point group, and its one kind of declaration (notification channel classes). Loading and asking each plugin
alone is `pluginhost`'s, shared with the agent; a plugin that fails is reported and skipped, never fatal."""

from __future__ import annotations

from typing import Final

import pluginhost
from pluginhost import PluginFailure
from server import hookspecs
from server.notify.channels import Channel

ENTRY_POINT_GROUP = "hazmon.server"
BUILTIN_PLUGINS: tuple[str, ...] = ("server.notify.channels",)
CHANNELS: Final = pluginhost.Kind("hazmon_server_notification_channels", Channel, "name", "notification channel")

__all__ = ["BUILTIN_PLUGINS", "CHANNELS", "ENTRY_POINT_GROUP", "PluginFailure", "ServerPlugins",
           "build_server_plugins"]


class ServerPlugins(pluginhost.PluginHost):
    """The server's loaded plugins and what they declare."""

    def notification_channels(self) -> dict[str, type[Channel]]:
        """Every declared channel class by its `name`."""
        return self.types(CHANNELS)


def build_server_plugins(*, load_entry_points: bool = True, blocked: tuple[str, ...] = (),
                         extra_modules: tuple[str, ...] = ()) -> ServerPlugins:
    """Specs, blocked names, built-ins, entry points, `check_pending()`, then every plugin's declarations."""
    return pluginhost.build(
        project=hookspecs.PROJECT,
        hookspecs=hookspecs,
        builtins=BUILTIN_PLUGINS,
        entry_point_group=ENTRY_POINT_GROUP,
        kinds=(CHANNELS,),
        host_type=ServerPlugins,
        blocked=blocked,
        extra_modules=extra_modules,
        load_entry_points=load_entry_points,
    )

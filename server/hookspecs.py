"""Every hook a server plugin can implement. Hooks are cheap and synchronous and return *declarations*; the server
runs what they declare, each instance alone (a raising hook implementation stops pluggy from calling the rest, so
no work is done inside a hook call)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from server.notify.channels import Channel

PROJECT = "hazmon_server"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def hazmon_server_notification_channels() -> list[type[Channel]]:
    """Declare the notification channel classes this plugin provides.

    Each class names its `name` and the URL `schemes` it serves (a contact's `url = "<scheme>://..."` picks it),
    and implements `send(message, target)`, raising on failure: the delivery queue logs the attempt and retries
    with backoff. Built-in channels: `webhook` (signed JSON), `log`, and `apprise` for every other URL.
    """

"""Every hook an agent plugin can implement. Hooks are cheap and synchronous and return *declarations*;
the agent runs what they declare, each instance alone (a raising hook implementation stops pluggy from calling
the rest, so no work is done inside a hook call)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from agent.sources import Source

PROJECT = "hazmon_agent"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def hazmon_agent_source_types() -> list[type[Source]]:
    """Declare the source classes this plugin provides.

    Each class names its `type_name` (the value of `type` in a `[[sources]]` table) and its pydantic
    `config_model`; `hazmon agent check` validates every table against that model before anything connects.
    """

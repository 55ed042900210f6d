"""Every hook an agent plugin can implement. Hooks are cheap and synchronous and return *declarations*;
the agent runs what they declare, each instance alone (a raising hook implementation stops pluggy from calling
the rest, so no work is done inside a hook call)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from agent.alarms.outputs import AlarmOutput
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


@hookspec
def hazmon_agent_alarm_outputs() -> list[type[AlarmOutput]]:
    """Declare the alarm output classes this plugin provides (a log, a relay, a beacon).

    Each class names its `type_name` (the `type` of an entry in an `[[alarms]]` table's `outputs`) and its
    pydantic `config_model`; `set(signal)` drives the output and raises on failure. Outputs are driven in a worker
    thread, each alone, also while the uplink is down.
    """

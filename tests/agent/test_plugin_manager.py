"""The plugin host: built-ins by module name, third-party plugins by entry point; a broken plugin is reported
and skipped, and never stops the others from loading."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from agent.plugin_manager import ENTRY_POINT_GROUP, PluginFailure, build_plugin_manager
from plugins.simulator.source import SimulatorSource

_SOURCE_PLUGIN = """\
from collections.abc import AsyncIterator

from agent import hookimpl
from agent.sources import Source


class {cls}(Source):
    type_name = "{type_name}"

    async def readings(self) -> AsyncIterator:
        return
        yield


@hookimpl
def hazmon_agent_source_types():
    return [{cls}]
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on sys.path for plugin modules written by the test; they are forgotten afterwards."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("hzt_"):
            del sys.modules[name]


def _module(folder: Path, name: str, code: str) -> str:
    (folder / f"{name}.py").write_text(textwrap.dedent(code))
    return name


def test_builtin_simulator_registers():
    """The simulator is a built-in plugin that declares the `simulator` source type."""
    host = build_plugin_manager(load_entry_points=False)
    assert "plugins.simulator" in host.plugin_names()
    assert host.source_types()["simulator"] is SimulatorSource
    assert not [f for f in host.failures if f.plugin == "plugins.simulator"]


def test_plugin_that_fails_to_import_is_reported_and_the_others_load(plugin_dir):
    """A module raising at import is in `failures` with its error; the other plugins still register."""
    broken = _module(plugin_dir, "hzt_broken_at_import", "raise RuntimeError('no driver for this board')\n")
    good = _module(plugin_dir, "hzt_good", _SOURCE_PLUGIN.format(cls="GoodSource", type_name="good-sensor"))
    host = build_plugin_manager(load_entry_points=False, extra_modules=(broken, good))
    assert PluginFailure(broken, "RuntimeError: no driver for this board") in host.failures
    assert broken not in host.plugin_names()
    assert {"plugins.simulator", good} <= set(host.plugin_names())
    types = host.source_types()
    assert {"simulator", "good-sensor"} <= set(types)


def test_plugin_whose_hook_raises_is_reported_and_the_others_declare(plugin_dir):
    """A raising `hazmon_agent_source_types` is reported; every other plugin's source types still load."""
    raising = _module(plugin_dir, "hzt_raising_hook", """\
        from agent import hookimpl

        @hookimpl
        def hazmon_agent_source_types():
            raise ValueError("declaration exploded")
        """)
    good = _module(plugin_dir, "hzt_good_after", _SOURCE_PLUGIN.format(cls="AfterSource", type_name="after-sensor"))
    host = build_plugin_manager(load_entry_points=False, extra_modules=(good, raising))
    types = host.source_types()
    assert {"simulator", "after-sensor"} <= set(types)
    assert PluginFailure(raising, "ValueError: declaration exploded") in host.failures


def test_plugin_declaring_something_that_is_not_a_source_is_reported(plugin_dir):
    """A declaration that is not a Source class with a type_name is a failure of that plugin alone."""
    odd = _module(plugin_dir, "hzt_not_a_source", """\
        from agent import hookimpl

        @hookimpl
        def hazmon_agent_source_types():
            return [dict]
        """)
    host = build_plugin_manager(load_entry_points=False, extra_modules=(odd,))
    types = host.source_types()
    assert "simulator" in types and dict not in types.values()
    assert [f.plugin for f in host.failures if "is not a Source class" in f.error] == [odd]


def test_blocked_plugin_is_not_registered():
    """A blocked built-in is neither registered nor asked for source types."""
    host = build_plugin_manager(load_entry_points=False, blocked=("plugins.simulator",))
    assert host.pm.is_blocked("plugins.simulator")
    assert host.pm.get_plugin("plugins.simulator") is None
    assert "simulator" not in host.source_types()


def test_blocked_plugin_is_not_listed_as_loaded():
    """`plugin_names()` (what `hazmon agent plugins` prints) lists loaded plugins only, not blocked names."""
    host = build_plugin_manager(load_entry_points=False, blocked=("plugins.simulator",))
    assert "plugins.simulator" not in host.plugin_names()
    assert "plugins.plantower" in host.plugin_names()


def test_blocked_plugin_is_not_even_imported(plugin_dir):
    """Blocking is how an operator disables a plugin that crashes at import: it is never imported."""
    broken = _module(plugin_dir, "hzt_blocked_broken", "raise RuntimeError('must not be imported')\n")
    host = build_plugin_manager(load_entry_points=False, blocked=(broken,), extra_modules=(broken,))
    assert broken not in sys.modules
    assert not [f for f in host.failures if f.plugin == broken]


def test_third_party_plugin_is_discovered_through_entry_points(plugin_dir):
    """A distribution declaring a `hazmon.agent` entry point is loaded under the entry point's name."""
    module = _module(plugin_dir, "hzt_vendor_plugin",
                     _SOURCE_PLUGIN.format(cls="VendorSource", type_name="vendor-meter"))
    dist = plugin_dir / "hazmon_vendor_meter-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hazmon-vendor-meter\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nvendor-meter = {module}\n")

    host = build_plugin_manager()
    assert "vendor-meter" in host.plugin_names()
    types = host.source_types()
    assert types["vendor-meter"].__module__ == module
    assert "simulator" in types
    assert not [f for f in host.failures if f.plugin == "vendor-meter"]

    without = build_plugin_manager(load_entry_points=False)
    assert "vendor-meter" not in without.plugin_names()


def test_third_party_plugin_that_fails_to_load_is_reported(plugin_dir):
    """An entry point whose module does not exist is a reported failure, not a crash."""
    dist = plugin_dir / "hazmon_ghost-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hazmon-ghost\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nghost = hzt_no_such_module\n")
    host = build_plugin_manager()
    failures = [f for f in host.failures if f.plugin == "ghost"]
    assert len(failures) == 1 and failures[0].error.startswith("ModuleNotFoundError")
    assert "simulator" in host.source_types()


def test_alarm_output_declarations_share_the_one_declaration_loop(plugin_dir):
    """A plugin declaring an alarm output that is not an AlarmOutput class is a reported failure, as for sources;
    the built-in outputs still load."""
    odd = _module(plugin_dir, "hzt_not_an_output", """\
        from agent import hookimpl

        @hookimpl
        def hazmon_agent_alarm_outputs():
            return [int]
        """)
    host = build_plugin_manager(load_entry_points=False, extra_modules=(odd,))
    assert {"log", "modbus_coil"} <= set(host.alarm_output_types())
    assert [f.plugin for f in host.failures] == [odd]
    assert "is not a AlarmOutput class with a type_name" in host.failures[0].error


def test_a_plugin_implementing_an_unknown_hook_is_reported_under_its_name(plugin_dir):
    """A misspelt hook (`hazmon_agent_source_type`) makes that plugin a failure named after it, not `?`."""
    typo = _module(plugin_dir, "hzt_typo_hook", """\
        from agent import hookimpl

        @hookimpl
        def hazmon_agent_source_type():
            return []
        """)
    host = build_plugin_manager(load_entry_points=False, extra_modules=(typo,))
    assert [f.plugin for f in host.failures] == [typo]
    assert "unknown hook 'hazmon_agent_source_type'" in host.failures[0].error
    assert typo not in host.plugin_names()

"""The plugin host core (`pluginhost`), as the agent and the server both use it: each plugin is loaded and asked
alone, every fault of a plugin is a reported failure naming it, and the report has one format."""

from __future__ import annotations

import sys
from types import ModuleType

import pluggy
import pytest

import pluginhost

hookspec = pluggy.HookspecMarker("hzt")
hookimpl = pluggy.HookimplMarker("hzt")


class Widget:
    name = ""


@hookspec
def hzt_widgets() -> list[type[Widget]]:
    """Declare widget classes."""


WIDGETS = pluginhost.Kind("hzt_widgets", Widget, "name", "widget")


def _widget(name: str) -> type[Widget]:
    return type(f"W_{name}", (Widget,), {"name": name})


@pytest.fixture
def modules(monkeypatch: pytest.MonkeyPatch):
    """Make plugin modules importable by name (they live in sys.modules for the test only)."""

    def add(name: str, **hooks: object) -> str:
        module = ModuleType(name)
        for attr, value in hooks.items():
            setattr(module, attr, value)
        monkeypatch.setitem(sys.modules, name, module)
        return name

    specs = ModuleType("hzt_specs")
    specs.hzt_widgets = hzt_widgets  # type: ignore[attr-defined]
    add.specs = specs  # type: ignore[attr-defined]
    return add


def _declaring(*classes: type) -> object:
    @hookimpl
    def hzt_widgets() -> list[type]:
        return list(classes)

    return hzt_widgets


def _build(modules, *names: str, blocked: tuple[str, ...] = ()) -> pluginhost.PluginHost:
    return pluginhost.build(project="hzt", hookspecs=modules.specs, builtins=names, entry_point_group="hzt.none",
                            kinds=(WIDGETS,), host_type=pluginhost.PluginHost, blocked=blocked,
                            load_entry_points=False)


def test_each_plugin_declares_alone_and_a_refused_one_is_a_failure(modules) -> None:
    """A plugin declaring something that is not a Widget with a name is refused whole; the others load."""
    good = modules("hzt_good", hzt_widgets=_declaring(_widget("gear")))
    odd = modules("hzt_odd", hzt_widgets=_declaring(_widget("cog"), dict))
    host = _build(modules, good, odd)
    assert set(host.types(WIDGETS)) == {"gear"}
    assert [f.plugin for f in host.failures] == [odd] and "is not a Widget class with a name" in host.failures[0].error


def test_a_name_declared_by_two_plugins_stays_with_the_first(modules) -> None:
    """The second plugin declaring `gear` is a failure (`declared twice`); the first keeps the name."""
    first = modules("hzt_first", hzt_widgets=_declaring(_widget("gear")))
    second = modules("hzt_second", hzt_widgets=_declaring(_widget("gear")))
    host = _build(modules, first, second)
    assert host.types(WIDGETS)["gear"].__name__ == "W_gear"
    assert host.declarations["hzt_widgets"].owners == {"gear": first}
    assert host.failures == (pluginhost.PluginFailure(second, "ValueError: widget 'gear' is declared twice"),)


def test_a_plugin_with_an_unknown_hook_is_reported_by_name_and_unloaded(modules) -> None:
    """A hook no spec defines (a typo) makes the plugin a failure under its own name; none of its hooks is used."""

    @hookimpl
    def hzt_widget() -> None: ...

    typo = modules("hzt_typo", hzt_widgets=_declaring(_widget("gear")), hzt_widget=hzt_widget)
    other = modules("hzt_other", hzt_widget=hzt_widget)
    host = _build(modules, typo, other)
    assert sorted(f.plugin for f in host.failures) == [other, typo]
    assert all("unknown hook 'hzt_widget'" in f.error for f in host.failures)
    assert host.plugin_names() == [] and host.types(WIDGETS) == {}


def test_the_report_lists_each_plugin_with_its_names_then_the_failures(modules) -> None:
    """`<plugin>: <names>` (or `-`) per loaded plugin, sorted, then `FAILED <plugin>: <error>`."""
    good = modules("hzt_report_good", hzt_widgets=_declaring(_widget("gear"), _widget("axle")))
    empty = modules("hzt_report_empty")
    host = _build(modules, good, empty, "hzt_report_missing")
    assert host.report() == [
        "hzt_report_empty: -",
        "hzt_report_good: axle, gear",
        "FAILED hzt_report_missing: ModuleNotFoundError: No module named 'hzt_report_missing'",
    ]


def test_a_blocked_plugin_is_neither_imported_nor_listed(modules) -> None:
    """Blocking a name keeps its module out entirely: not registered, not reported."""
    host = _build(modules, "hzt_never_imported", blocked=("hzt_never_imported",))
    assert "hzt_never_imported" not in sys.modules
    assert host.report() == []

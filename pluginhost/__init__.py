"""The one plugin-host shape of hazmon, shared by the site agent (sources, alarm outputs) and the server
(notification channels). Imports pluggy and the standard library only, so both sides may use it.

Loading order: hook specs, blocked names, built-ins by module name, third-party plugins from an entry-point
group, then `check_pending()`. Then each plugin is asked *alone* for each kind of declaration (`declared`): a
plugin that fails to import, implements an unknown hook, raises in its hook or declares something that is not a
class of the kind is a `PluginFailure`, reported and skipped; the others load. (pluggy stops calling the rest
when one implementation raises, which is why hooks return declarations and each is called on its own.)
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Generic, TypeVar

import pluggy

log = logging.getLogger(__name__)

T = TypeVar("T")
H = TypeVar("H", bound="PluginHost")


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded or whose declaration was refused, and why."""

    plugin: str
    error: str


@dataclass(frozen=True)
class Kind(Generic[T]):
    """One kind of declaration: the hook that returns it, the class each declared class must subclass, and the
    class attribute that names it (`type_name` for agent sources and outputs, `name` for server channels)."""

    hook: str
    base: type[T]
    key: str
    label: str


@dataclass(frozen=True)
class Declared(Generic[T]):
    """What the plugins declared for one kind: the classes by name, the plugin that declared each name, and the
    plugins whose declaration was refused."""

    types: Mapping[str, type[T]]
    owners: Mapping[str, str]
    failures: tuple[PluginFailure, ...]


def declared(pm: pluggy.PluginManager, hook_name: str, base_class: type[T], key_attr: str,
             *, label: str = "declaration") -> Declared[T]:
    """Ask every implementation of `hook_name` alone for its classes. A plugin whose hook raises, or returns
    anything but subclasses of `base_class` with a non-empty `key_attr`, or a name another plugin already
    declared, is a failure; nothing it declared is kept."""
    types: dict[str, type[T]] = {}
    owners: dict[str, str] = {}
    failures: list[PluginFailure] = []
    hook = getattr(pm.hook, hook_name, None)
    for impl in hook.get_hookimpls() if hook is not None else ():
        mine: dict[str, type[T]] = {}
        try:
            for cls in impl.function():
                name = _name(cls, base_class, key_attr)
                if {types.get(name, cls), mine.get(name, cls)} != {cls}:
                    raise ValueError(f"{label} {name!r} is declared twice")
                mine[name] = cls
        except Exception as exc:  # a broken plugin is reported, never fatal
            failures.append(PluginFailure(impl.plugin_name, f"{type(exc).__name__}: {exc}"))
            log.error("plugin %s: %s declaration refused: %s", impl.plugin_name, label, exc)
            continue
        for name, cls in mine.items():
            types.setdefault(name, cls)
            owners.setdefault(name, impl.plugin_name)
    return Declared(types, owners, tuple(failures))


def _name(cls: object, base: type[Any], key: str) -> str:
    name = getattr(cls, key, None)
    if not (isinstance(cls, type) and issubclass(cls, base)) or not isinstance(name, str) or not name:
        raise TypeError(f"{cls!r} is not a {base.__name__} class with a {key}")
    return name


@dataclass(frozen=True)
class PluginHost:
    """The plugin manager, what each kind of declaration holds, and every failure met while loading."""

    pm: pluggy.PluginManager
    declarations: Mapping[str, Declared[Any]]
    failures: tuple[PluginFailure, ...]

    def plugin_names(self) -> list[str]:
        """The loaded plugins (blocked and failed ones are not)."""
        return sorted(name for name, plugin in self.pm.list_name_plugin() if name is not None and plugin is not None)

    def types(self, kind: Kind[T]) -> dict[str, type[T]]:
        """The classes of `kind` by name."""
        found = self.declarations.get(kind.hook)
        return dict(found.types) if found is not None else {}

    def declared_by(self, plugin: str) -> list[str]:
        """Every name `plugin` declared, of every kind."""
        return sorted(name for d in self.declarations.values() for name, owner in d.owners.items() if owner == plugin)

    def report(self) -> list[str]:
        """What `hazmon agent plugins` and `hazmon server plugins` print: `<plugin>: <names>` per loaded plugin,
        then `FAILED <plugin>: <error>` per failure."""
        lines = [f"{name}: {', '.join(self.declared_by(name)) or '-'}" for name in self.plugin_names()]
        return lines + [f"FAILED {f.plugin}: {f.error}" for f in self.failures]


def build(
    *,
    project: str,
    hookspecs: ModuleType,
    builtins: Iterable[str],
    entry_point_group: str,
    kinds: Iterable[Kind[Any]],
    host_type: type[H],
    blocked: Iterable[str] = (),
    extra_modules: Iterable[str] = (),
    load_entry_points: bool = True,
    trace: Callable[[str], None] | None = None,
) -> H:
    """Load the plugins of one process and ask each for its declarations. Never raises for a plugin's fault.

    `blocked` names (module names of built-ins, entry-point names of third-party plugins) are never imported;
    `extra_modules` are registered like built-ins (tests, local plugins); `trace` receives pluggy's hook trace."""
    pm = pluggy.PluginManager(project)
    pm.add_hookspecs(hookspecs)
    failures: list[PluginFailure] = []
    for name in blocked:
        pm.set_blocked(name)
    for module_name in (*builtins, *extra_modules):
        _register(pm, failures, module_name, partial(importlib.import_module, module_name))
    if load_entry_points:
        for ep in entry_points(group=entry_point_group):
            _register(pm, failures, ep.name, ep.load)
    _unregister_unknown_hooks(pm, failures)
    declarations: dict[str, Declared[Any]] = {}
    for kind in kinds:
        declarations[kind.hook] = declared(pm, kind.hook, kind.base, kind.key, label=kind.label)
        failures.extend(declarations[kind.hook].failures)
    if trace is not None:
        pm.trace.root.setwriter(trace)
        pm.enable_tracing()
    return host_type(pm, declarations, tuple(failures))


def _register(pm: pluggy.PluginManager, failures: list[PluginFailure], name: str, load: Callable[[], object]) -> None:
    if pm.is_blocked(name):
        return
    try:
        pm.register(load(), name=name)
    except Exception as exc:
        failures.append(PluginFailure(name, f"{type(exc).__name__}: {exc}"))
        log.error("plugin %s could not be loaded and is skipped: %s", name, exc)


def _unregister_unknown_hooks(pm: pluggy.PluginManager, failures: list[PluginFailure]) -> None:
    """`check_pending()` until it passes: a plugin implementing a hook no spec defines (a typo, a plugin for
    another version) is reported and unregistered, so its other hooks are not half-used."""
    for _ in range(len(pm.get_plugins()) + 1):
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as exc:
            name = pm.get_name(exc.plugin) or repr(exc.plugin)
            failures.append(PluginFailure(name, f"PluginValidationError: {exc}"))
            log.error("plugin %s is skipped: %s", name, exc)
            pm.unregister(exc.plugin)

"""Plugin meta-tests, one set for every built-in plugin (the agent's `plugins/*/` and the server's channels):
it has a README.md that embeds its sample.toml verbatim, the sample validates the way the process loads it and
uses what the plugin declares, and the plugin declares through its hook. Every hook spec has a docstring, is
documented in docs/plugins.md and has a `test_hook_<name>` test (below)."""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

import pluginhost
from agent import hookspecs as agent_hookspecs
from agent.alarms.evaluator import EdgeAlarms
from agent.config import parse_config
from agent.plugin_manager import ALARM_OUTPUTS, SOURCES, build_plugin_manager
from agent.plugin_manager import BUILTIN_PLUGINS as AGENT_BUILTINS
from exposure import Reading
from server import hookspecs as server_hookspecs
from server.notify.channels import Message
from server.notify.policies import NotifyConfig, parse_notify_config
from server.notify.service import Notifier
from server.plugin_manager import BUILTIN_PLUGINS as SERVER_BUILTINS
from server.plugin_manager import CHANNELS, build_server_plugins

REPO = Path(__file__).resolve().parents[2]
PLUGIN_DOCS = REPO / "docs" / "plugins.md"
T0 = 1_764_410_400_000


@dataclass(frozen=True)
class Builtin:
    """A built-in plugin: the module it is registered as, the folder with its README.md and sample.toml, and
    the side that loads it."""

    module: str
    folder: Path
    side: str

    def __str__(self) -> str:
        return self.module


BUILTINS = [
    *(Builtin(f"plugins.{p.name}", p, "agent") for p in sorted((REPO / "plugins").iterdir())
      if (p / "__init__.py").exists()),
    Builtin("server.notify.channels", REPO / "server" / "notify", "server"),
]
HOOK_MODULES = (agent_hookspecs, server_hookspecs)


def _hook_specs() -> list[tuple[str, object]]:
    return [(name, fn) for module in HOOK_MODULES for name, fn in vars(module).items()
            if name.startswith("hazmon_") and inspect.isfunction(fn)]


def _host(side: str, **options: object) -> pluginhost.PluginHost:
    build = build_plugin_manager if side == "agent" else build_server_plugins
    return build(load_entry_points=False, **options)  # type: ignore[arg-type]


def _kinds(plugin: Builtin) -> list[pluginhost.Kind[object]]:
    """The kinds of declaration the plugin's module implements a hook for."""
    module = importlib.import_module(plugin.module)
    kinds = (SOURCES, ALARM_OUTPUTS) if plugin.side == "agent" else (CHANNELS,)
    return [k for k in kinds if hasattr(module, k.hook)]  # type: ignore[misc]


def _declared(plugin: Builtin, kind: pluginhost.Kind[object]) -> list[type]:
    return list(getattr(importlib.import_module(plugin.module), kind.hook)())


def _agent_text(sample: str, data_dir: Path) -> str:
    return ('schema_version = 1\nsite = "plant-a"\nagent = "gw-1"\n'
            f'data_dir = "{data_dir}"\n[uplink]\ntype = "http"\nurl = "http://127.0.0.1:8600"\n'
            'token = "hzm_a_0123456789abcdef"\n\n' + sample)


class _Clock:
    def now_ms(self) -> int:
        return T0

    async def sleep(self, seconds: float) -> None:
        return None


# -- every built-in plugin ------------------------------------------------------------------------------------

def test_the_set_covers_every_builtin_plugin() -> None:
    """Every module in the agent's and the server's BUILTIN_PLUGINS is in this set, and every plugins/ folder
    is a registered built-in."""
    assert sorted(p.module for p in BUILTINS) == sorted((*AGENT_BUILTINS, *SERVER_BUILTINS))


@pytest.mark.parametrize("plugin", BUILTINS, ids=str)
def test_a_plugin_has_a_readme_that_embeds_its_sample_verbatim(plugin: Builtin) -> None:
    """README.md and sample.toml exist, and the README's toml block is the sample config, byte for byte."""
    sample = (plugin.folder / "sample.toml").read_text(encoding="utf-8")
    readme = (plugin.folder / "README.md").read_text(encoding="utf-8")
    assert f"```toml\n{sample}```" in readme


@pytest.mark.parametrize("plugin", BUILTINS, ids=str)
def test_a_plugin_declares_through_its_hook(plugin: Builtin) -> None:
    """The plugin loads with no failure, implements a hook, and each class it declares is what the host holds
    under its name, declared by this plugin."""
    host = _host(plugin.side)
    assert not host.failures
    assert plugin.module in host.plugin_names()
    kinds = _kinds(plugin)
    assert kinds, f"{plugin} implements no hook"
    for kind in kinds:
        for cls in _declared(plugin, kind):
            name = getattr(cls, kind.key)
            assert host.types(kind)[name] is cls
            assert host.declarations[kind.hook].owners[name] == plugin.module


@pytest.mark.parametrize("plugin", BUILTINS, ids=str)
def test_a_plugin_sample_validates_as_the_process_loads_it(plugin: Builtin, tmp_path: Path) -> None:
    """The sample passes the loader that reads it in production: the agent config (source tables against the
    plugin's config model; alarm outputs built from their tables) or the server's notify file."""
    sample = (plugin.folder / "sample.toml").read_text(encoding="utf-8")
    host = _host(plugin.side)
    if plugin.side == "server":
        config = parse_notify_config(sample, name=str(plugin.folder / "sample.toml"))
        assert config.groups and config.policies
        return
    config = parse_config(_agent_text(sample, tmp_path), source_types=host.source_types(),  # type: ignore[attr-defined]
                          filename=str(plugin.folder / "sample.toml"))
    assert config.sources or config.alarms
    alarms = EdgeAlarms.from_config(config, output_types=host.alarm_output_types(),  # type: ignore[attr-defined]
                                    config_path=None, clock=_Clock())
    alarms.close()
    assert sum(len(outs) for outs in alarms.outputs.values()) == sum(len(rule.outputs) for rule in config.alarms)


@pytest.mark.parametrize("plugin", BUILTINS, ids=str)
def test_a_plugin_sample_uses_what_the_plugin_declares(plugin: Builtin, tmp_path: Path) -> None:
    """Every source type, alarm output or channel the plugin declares appears in its sample."""
    sample = (plugin.folder / "sample.toml").read_text(encoding="utf-8")
    host = _host(plugin.side)
    if plugin.side == "server":
        notifier = Notifier(parse_notify_config(sample), channels=host.notification_channels(), clock=lambda: T0)  # type: ignore[attr-defined]
        used = {notifier.channel_for(m.target, m.webhook is not None).name
                for g in notifier.config.groups for m in g.members}
        assert used == {cls.name for cls in _declared(plugin, CHANNELS)}
        return
    config = parse_config(_agent_text(sample, tmp_path), source_types=host.source_types())  # type: ignore[attr-defined]
    used = {s.type for s in config.sources} | {o["type"] for rule in config.alarms for o in rule.outputs}
    declared = {cls.type_name for kind in _kinds(plugin) for cls in _declared(plugin, kind)}
    assert declared <= used


# -- every hook spec ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "spec"), _hook_specs(), ids=[n for n, _ in _hook_specs()])
def test_a_hook_spec_has_a_docstring(name: str, spec: object) -> None:
    """A hook spec is an API: it says what an implementation returns and how the process uses it."""
    assert len(inspect.getdoc(spec) or "") > 40, f"{name} has no real docstring"


@pytest.mark.parametrize("name", [n for n, _ in _hook_specs()])
def test_a_hook_spec_is_documented_for_plugin_authors(name: str) -> None:
    """docs/plugins.md names every hook."""
    assert f"`{name}`" in PLUGIN_DOCS.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [n for n, _ in _hook_specs()])
def test_a_hook_spec_has_a_test(name: str) -> None:
    """Somewhere under tests/ a function `test_hook_<name>` exercises the hook through a plugin."""
    pattern = re.compile(rf"^(async )?def test_hook_{name}\(", re.MULTILINE)
    assert any(pattern.search(p.read_text(encoding="utf-8")) for p in (REPO / "tests").rglob("test_*.py")), name


# -- the hooks, through plugins written as a third party would ------------------------------------------------

WritePlugin = Callable[[str, str], ModuleType]


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WritePlugin]:
    """Write a plugin module into a folder on sys.path and import it; it is forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    written: list[str] = []

    def write(name: str, code: str) -> ModuleType:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(code))
        written.append(name)
        return importlib.import_module(name)

    yield write
    for name in written:
        sys.modules.pop(name, None)


async def test_hook_hazmon_agent_source_types(plugin_module: WritePlugin, tmp_path: Path) -> None:
    """A declared source class is a `type` for `[[sources]]` tables, validated by its config model, and yields
    the readings the agent stores."""
    plugin_module("hzt_meter", """\
        from agent import hookimpl
        from agent.sources import PolledSource, PolledSourceConfig
        from exposure import Reading


        class MeterConfig(PolledSourceConfig):
            type: str = "meter"
            level: float


        class Meter(PolledSource):
            type_name = "meter"
            config_model = MeterConfig

            async def poll(self):
                return [Reading(self.name, "laeq", self.config.level, "dB(A)", self.clock.now_ms(), 1.0, ())]


        @hookimpl
        def hazmon_agent_source_types():
            return [Meter]
        """)
    host = build_plugin_manager(load_entry_points=False, extra_modules=("hzt_meter",))
    assert not host.failures and host.declared_by("hzt_meter") == ["meter"]
    text = _agent_text('[[sources]]\ntype = "meter"\nname = "press-2"\nlevel = 88.5\n', tmp_path)
    config = parse_config(text, source_types=host.source_types())
    source = host.source_types()["meter"](config.sources[0], clock=_Clock())
    readings: AsyncIterator[Reading] = source.readings()
    assert await anext(readings) == Reading("press-2", "laeq", 88.5, "dB(A)", T0, 1.0, ())


def test_hook_hazmon_agent_alarm_outputs(plugin_module: WritePlugin, tmp_path: Path) -> None:
    """A declared output class is a `type` for an alarm's `outputs`, built from its table, and driven when the
    alarm is raised and cleared."""
    module = plugin_module("hzt_beacon", """\
        from typing import Literal

        from pydantic import BaseModel

        from agent import hookimpl
        from agent.alarms.outputs import AlarmOutput

        SIGNALS = []


        class BeaconConfig(BaseModel):
            type: Literal["beacon"] = "beacon"
            colour: str = "red"


        class Beacon(AlarmOutput):
            type_name = "beacon"
            config_model = BeaconConfig

            def set(self, signal):
                SIGNALS.append((self.config.colour, signal.active, signal.severity))


        @hookimpl
        def hazmon_agent_alarm_outputs():
            return [Beacon]
        """)
    host = build_plugin_manager(load_entry_points=False, extra_modules=("hzt_beacon",))
    assert not host.failures and host.declared_by("hzt_beacon") == ["beacon"]
    text = _agent_text('[[alarms]]\nid = "co-local"\nquantity = "co"\nunit = "ppm"\n'
                       'levels = [{ severity = "critical", above = 50.0 }]\n'
                       'outputs = [{ type = "beacon", colour = "amber" }]\n', tmp_path)
    alarms = EdgeAlarms.from_config(parse_config(text, source_types={}), output_types=host.alarm_output_types(),
                                    config_path=None, clock=_Clock())
    try:
        for i, value in enumerate([60.0, 10.0]):
            alarms.observe(Reading("tank-1", "co", value, "ppm", T0 + i * 1000, None, ()))
        alarms.drive_outputs()
    finally:
        alarms.close()
    assert module.SIGNALS == [("amber", True, "critical"), ("amber", False, None)]


def test_hook_hazmon_server_notification_channels(plugin_module: WritePlugin) -> None:
    """A declared channel serves the URL schemes it names: the notifier picks it for such a contact and hands
    it the message."""
    module = plugin_module("hzt_pager", """\
        from server.hookspecs import hookimpl
        from server.notify.channels import Channel

        SENT = []


        class Pager(Channel):
            name = "pager"
            schemes = ("pager",)

            def send(self, message, target):
                SENT.append((target, message.subject))


        @hookimpl
        def hazmon_server_notification_channels():
            return [Pager]
        """)
    plugins = build_server_plugins(load_entry_points=False, extra_modules=("hzt_pager",))
    assert not plugins.failures and plugins.declared_by("hzt_pager") == ["pager"]
    notifier = Notifier(NotifyConfig(), channels=plugins.notification_channels(), clock=lambda: T0)
    notifier.channel_for("pager://duty-officer", False).send(
        Message(key="k", subject="[CRITICAL] H2S", body="", severity="critical"), "pager://duty-officer")
    assert module.SENT == [("pager://duty-officer", "[CRITICAL] H2S")]

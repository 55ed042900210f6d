"""Every plugin documents itself: README.md embeds sample.toml verbatim, and the sample validates."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from agent.plugin_manager import BUILTIN_PLUGINS, build_plugin_manager

PLUGINS_DIR = Path(__file__).resolve().parents[2] / "plugins"
FOLDERS = sorted(p for p in PLUGINS_DIR.iterdir() if (p / "__init__.py").exists())


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_plugin_folder_has_readme_and_sample(folder):
    """Each plugin folder has a README.md and a sample.toml."""
    assert (folder / "README.md").is_file()
    assert (folder / "sample.toml").is_file()


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_readme_embeds_the_sample_verbatim(folder):
    """The README's toml block is the sample config, byte for byte."""
    sample = (folder / "sample.toml").read_text(encoding="utf-8")
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert f"```toml\n{sample}```" in readme


def _kind(folder: Path) -> str:
    """A plugin provides sources or alarm outputs (or both); each kind has its own sample tables."""
    module = importlib.import_module(f"plugins.{folder.name}")
    kinds = [k for k in ("hazmon_agent_source_types", "hazmon_agent_alarm_outputs") if hasattr(module, k)]
    assert kinds, f"{folder.name} implements no agent hook"
    return kinds[0]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_sample_validates_against_the_plugin_config_model(folder):
    """Every [[sources]] table (source plugins) or every output of every [[alarms]] table (alarm-output
    plugins) in the sample validates against the plugin's config model; the alarm rules validate too."""
    module = importlib.import_module(f"plugins.{folder.name}")
    sample = tomllib.loads((folder / "sample.toml").read_text(encoding="utf-8"))
    if _kind(folder) == "hazmon_agent_source_types":
        classes = {cls.type_name: cls for cls in module.hazmon_agent_source_types()}
        assert sample["sources"]
        for table in sample["sources"]:
            cfg = classes[table["type"]].config_model.model_validate(table)
            assert cfg.name == table["name"]
        return
    from agent.alarms.rules import AlarmRule

    classes = {cls.type_name: cls for cls in module.hazmon_agent_alarm_outputs()}
    assert sample["alarms"]
    outputs = [o for table in sample["alarms"] for o in table["outputs"] if o["type"] in classes]
    assert outputs, "the sample uses this plugin's output"
    for table in sample["alarms"]:
        AlarmRule.model_validate(table)
    for output in outputs:
        assert classes[output["type"]].config_model.model_validate(output).type == output["type"]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_plugin_is_a_registered_builtin(folder):
    """Each plugin folder is listed in BUILTIN_PLUGINS and loads without failure."""
    assert f"plugins.{folder.name}" in BUILTIN_PLUGINS
    host = build_plugin_manager(load_entry_points=False)
    assert not host.failures
    module = importlib.import_module(f"plugins.{folder.name}")
    if _kind(folder) == "hazmon_agent_source_types":
        types = host.source_types()
        for cls in module.hazmon_agent_source_types():
            assert types[cls.type_name] is cls
    else:
        outputs = host.alarm_output_types()
        for cls in module.hazmon_agent_alarm_outputs():
            assert outputs[cls.type_name] is cls

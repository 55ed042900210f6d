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


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_sample_validates_against_the_plugin_config_model(folder):
    """Every [[sources]] table of the sample parses and validates against its plugin's config model."""
    module = importlib.import_module(f"plugins.{folder.name}")
    classes = {cls.type_name: cls for cls in module.hazmon_agent_source_types()}
    tables = tomllib.loads((folder / "sample.toml").read_text(encoding="utf-8"))["sources"]
    assert tables
    for table in tables:
        cfg = classes[table["type"]].config_model.model_validate(table)
        assert cfg.name == table["name"]


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_plugin_is_a_registered_builtin(folder):
    """Each plugin folder is listed in BUILTIN_PLUGINS and loads without failure."""
    assert f"plugins.{folder.name}" in BUILTIN_PLUGINS
    host = build_plugin_manager(load_entry_points=False)
    types = host.source_types()
    assert not host.failures
    module = importlib.import_module(f"plugins.{folder.name}")
    for cls in module.hazmon_agent_source_types():
        assert types[cls.type_name] is cls

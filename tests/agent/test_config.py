"""The agent's TOML config is validated once at start-up; every problem names the key and its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import AgentConfig, ConfigError, load_config, parse_config
from agent.plugin_manager import build_plugin_manager
from plugins.simulator.source import SimulatorConfig

# line numbers matter: tests below point at them
VALID = """\
schema_version = 1
site = "plant-a"
agent = "gw-1"

[uplink]
type = "http"
url = "http://127.0.0.1:8600"
token = "hzm_a_0123456789abcdef"

[outbox]
max_batch_readings = 200

[[sources]]
type = "simulator"
name = "tank-3-gas"
kind = "gas"
scenario = "gas_leak"

[[sources]]
type = "simulator"
name = "press-2-noise"
kind = "noise"
seed = 3
"""


@pytest.fixture(scope="module")
def source_types():
    return build_plugin_manager(load_entry_points=False).source_types()


def _problems(text: str, source_types) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source_types=source_types, filename="agent.toml")
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def _replace_line(text: str, number: int, new: str) -> str:
    lines = text.splitlines()
    lines[number - 1] = new
    return "\n".join(lines) + "\n"


def test_valid_config_parses(source_types):
    """A correct file gives a typed config with each source validated by its plugin's model."""
    cfg = parse_config(VALID, source_types=source_types, filename="agent.toml")
    assert isinstance(cfg, AgentConfig)
    assert (cfg.site, cfg.agent, cfg.uplink.url) == ("plant-a", "gw-1", "http://127.0.0.1:8600")
    assert cfg.outbox.max_batch_readings == 200
    assert [s.name for s in cfg.sources] == ["tank-3-gas", "press-2-noise"]
    assert all(isinstance(s, SimulatorConfig) for s in cfg.sources)
    assert cfg.sources[0].scenario == "gas_leak" and cfg.sources[1].seed == 3


def test_outbox_lives_next_to_the_config_by_default(source_types, tmp_path):
    """Without data_dir the outbox file sits beside the config file, named after the agent."""
    path = tmp_path / "agent.toml"
    path.write_text(VALID)
    cfg = load_config(path, source_types=source_types)
    assert cfg.outbox_path(path) == tmp_path / "outbox-gw-1.db"


def test_typo_in_a_top_level_key_names_key_and_line(source_types):
    """An unknown top-level key is reported as a typo at its own line."""
    text = _replace_line(VALID, 4, 'sitte_name = "plant-b"')
    assert _problems(text, source_types) == ["agent.toml:4: sitte_name: unknown key (a typo?)"]


def test_typo_in_the_uplink_table_names_key_and_line(source_types):
    """A misspelt key in [uplink] names uplink.<key> and its line, and the key it replaced is missing."""
    text = _replace_line(VALID, 8, 'tokne = "hzm_a_0123456789abcdef"')
    problems = _problems(text, source_types)
    assert "agent.toml:8: uplink.tokne: unknown key (a typo?)" in problems
    assert "agent.toml:5: uplink.token: Field required" in problems


def test_typo_in_the_second_source_names_key_and_line(source_types):
    """`sead = 3` in the 2nd [[sources]] table is sources[1].sead at line 23, not the first table's line."""
    text = _replace_line(VALID, 23, "sead = 3")
    assert _problems(text, source_types) == ["agent.toml:23: sources[1].sead: unknown key (a typo?)"]


def test_typo_in_a_source_after_a_commented_table_header_names_the_right_line(source_types):
    """A comment after a table header is valid TOML and does not change which line a key is on."""
    text = _replace_line(_replace_line(VALID, 19, "[[sources]]  # the press"), 23, "sead = 3")
    assert _problems(text, source_types) == ["agent.toml:23: sources[1].sead: unknown key (a typo?)"]


def test_bad_value_in_a_source_names_key_and_line(source_types):
    """A value the plugin's model refuses is reported at the key's line."""
    text = _replace_line(VALID, 22, 'kind = "radiation"')
    problems = _problems(text, source_types)
    assert len(problems) == 1
    assert problems[0].startswith("agent.toml:22: sources[1].kind: ")


def test_unknown_source_type_names_the_known_types(source_types):
    """A type no plugin declares is refused, listing the types that are loaded."""
    text = _replace_line(VALID, 20, 'type = "simulatr"')
    problems = _problems(text, source_types)
    assert len(problems) == 1
    assert problems[0].startswith("agent.toml:20: sources[1].type: unknown source type 'simulatr' (known: ")
    assert all(name in problems[0] for name in source_types)
    assert "simulator" in problems[0]


def test_duplicated_source_name_is_rejected(source_types):
    """Two sources may not share a name (the sensor id their readings carry)."""
    text = _replace_line(VALID, 21, 'name = "tank-3-gas"')
    assert _problems(text, source_types) == ["agent.toml:21: sources[1].name: 'tank-3-gas' is used twice"]


def test_every_problem_is_reported_at_once(source_types):
    """Problems in several tables are all listed, so one run finds them all."""
    text = _replace_line(_replace_line(VALID, 4, "colour = 1"), 23, "sead = 3")
    problems = _problems(text, source_types)
    assert "agent.toml:4: colour: unknown key (a typo?)" in problems
    assert "agent.toml:23: sources[1].sead: unknown key (a typo?)" in problems


def test_invalid_toml_names_the_line(source_types):
    """A TOML syntax error says so and names its line."""
    text = _replace_line(VALID, 16, 'kind = "gas')
    problems = _problems(text, source_types)
    assert len(problems) == 1
    assert problems[0].startswith("agent.toml: not valid TOML: ")
    assert "line 16" in problems[0]


def test_unreadable_file_is_a_config_error(source_types, tmp_path):
    """A missing file is a ConfigError naming the path, not a traceback."""
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.toml", source_types=source_types)
    assert str(tmp_path / "nope.toml") in str(info.value)


def test_schema_version_is_required(source_types):
    """A file without schema_version is refused (future formats must be told apart)."""
    text = _replace_line(VALID, 1, "")
    problems = _problems(text, source_types)
    assert problems == ["agent.toml:1: schema_version: Field required"]


def test_sample_configs_of_built_in_plugins_parse(source_types):
    """The simulator's sample.toml, under a minimal agent header, is a valid config."""
    sample = (Path(__file__).resolve().parents[2] / "plugins" / "simulator" / "sample.toml").read_text()
    header = VALID.split("[outbox]")[0]
    cfg = parse_config(header + sample, source_types=source_types)
    assert [s.type for s in cfg.sources] == ["simulator"]


def test_retry_max_s_caps_the_uplink_backoff_and_must_be_positive(source_types):
    """`retry_max_s` (default 30 s) is the longest wait between delivery attempts; 0 is refused at its line."""
    assert parse_config(VALID, source_types=source_types, filename="agent.toml").uplink.retry_max_s == 30.0
    text = VALID.replace('token = "hzm_a_0123456789abcdef"\n', 'token = "hzm_a_0123456789abcdef"\nretry_max_s = 2\n')
    assert parse_config(text, source_types=source_types, filename="agent.toml").uplink.retry_max_s == 2.0
    problems = _problems(text.replace("retry_max_s = 2", "retry_max_s = 0"), source_types)
    assert len(problems) == 1 and problems[0].startswith("agent.toml:9: uplink.retry_max_s: ")

"""Every example in config/ is valid as shipped: a user who copies one starts from a file hazmon accepts."""

from __future__ import annotations

from pathlib import Path

from agent.config import load_config
from agent.plugin_manager import build_plugin_manager
from exposure.profiles import parse_overrides
from server.emergency.plans import load_plans
from server.health.surveillance import parse_rules
from server.notify.policies import parse_notify_config
from server.settings import Settings

CONFIG = Path(__file__).resolve().parents[1] / "config"


def test_agent_example_validates_against_the_builtin_plugins() -> None:
    """config/agent.example.toml passes `hazmon agent check`'s validation."""
    host = build_plugin_manager(load_entry_points=False)
    cfg = load_config(CONFIG / "agent.example.toml", source_types=host.source_types())
    assert [s.name for s in cfg.sources] == ["press-2-noise", "tank-3-gas"]


def test_server_example_env_lists_every_setting_and_nothing_else() -> None:
    """config/server.example.env names every field of the server settings as its HAZMON_* variable (commented or
    not), and no variable that is not one."""
    fields = {f"HAZMON_{name.upper()}" for name in Settings.model_fields}
    names = {
        line.lstrip("# ").split("=", 1)[0]
        for line in (CONFIG / "server.example.env").read_text().splitlines()
        if line.lstrip("# ").startswith("HAZMON_")
    }
    assert names == fields, {"missing": sorted(fields - names), "unknown": sorted(names - fields)}


def test_server_example_env_values_are_accepted(monkeypatch) -> None:
    """The uncommented values of config/server.example.env, set as environment variables, validate as they are."""
    for line in (CONFIG / "server.example.env").read_text().splitlines():
        if line.startswith("HAZMON_") and not line.startswith("HAZMON_DATA_DIR"):
            name, value = line.split("#", 1)[0].strip().split("=", 1)
            monkeypatch.setenv(name, value)
    settings = Settings()
    assert (settings.profile, settings.port, settings.health.scheduler_s) == ("cn", 8600, 60.0)


def test_the_profile_is_read_from_either_name(monkeypatch) -> None:
    """HAZMON_PROFILE sets the site's jurisdiction profile; the older HAZMON_HEALTH_PROFILE still does."""
    monkeypatch.setenv("HAZMON_HEALTH_PROFILE", "eu")
    assert Settings().profile == "eu" and Settings().health.profile == "eu"
    monkeypatch.setenv("HAZMON_PROFILE", "us-osha")
    assert Settings().profile == "us-osha"


def test_surveillance_example_parses() -> None:
    """config/surveillance.example.toml shows one rule of each kind, all valid."""
    rules = parse_rules((CONFIG / "surveillance.example.toml").read_text(), file="surveillance.example.toml")
    assert (len(rules.intervals), len(rules.follow_ups), len(rules.emergency)) == (1, 1, 1)


def test_limits_override_example_parses() -> None:
    """config/limits.override.example.toml is a valid site override file."""
    overrides = parse_overrides((CONFIG / "limits.override.example.toml").read_text(), file="limits.override")
    assert overrides is not None


def test_notify_example_parses() -> None:
    """config/notify.example.toml is a valid notification policy file."""
    config = parse_notify_config((CONFIG / "notify.example.toml").read_text(), name="notify.example.toml")
    assert config.groups and config.policies


def test_emergency_plans_load() -> None:
    """Both shipped emergency plans load, each with ordered steps and a trigger."""
    plans = load_plans(CONFIG / "emergency")
    assert set(plans) == {"toxic-release", "oxygen-deficiency"}
    assert all(p.steps and p.triggers for p in plans.values())

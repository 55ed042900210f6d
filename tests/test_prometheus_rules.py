"""config/prometheus/: the alert rules only use metrics the server or an agent exposes (a rule on a metric that
does not exist never fires), and the scrape config points at the server's default port and the rules file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from prometheus_client.core import CollectorRegistry

from agent.config import parse_config
from agent.metrics import AgentCollector
from agent.plugin_manager import build_plugin_manager
from agent.runtime import Agent
from server.settings import Settings
from tests.kit.ports import free_port
from tests.kit.prometheus import parse
from tests.kit.server import build_app

PROMETHEUS = Path(__file__).resolve().parents[1] / "config" / "prometheus"


def _rules() -> list[dict[str, Any]]:
    return [rule for g in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"] for rule in g["rules"]]


def _server_names(tmp_path: Path, sqlite_template) -> set[str]:  # type: ignore[no-untyped-def]
    """Everything the server's /metrics exposes, with MQTT ingest and InfluxDB configured (nothing listens)."""
    url = sqlite_template.copy(tmp_path / "hazmon.db")
    app = build_app(tmp_path, url, mqtt_url=f"mqtt://127.0.0.1:{free_port()}",
                    influx_url=f"http://127.0.0.1:{free_port()}/hazmon")
    with TestClient(app) as client:
        r = client.get("/metrics")
    assert r.status_code == 200
    return parse(r.text).names()


def _agent_names(tmp_path: Path) -> set[str]:
    """Everything an agent's /metrics exposes, read from its collector."""
    text = (f'schema_version = 1\nsite = "s"\nagent = "a"\ndata_dir = "{tmp_path / "agent"}"\n\n'
            '[uplink]\ntype = "http"\nurl = "http://127.0.0.1:8600"\ntoken = "hzm_a_0123456789abcdef"\n\n'
            '[[sources]]\ntype = "simulator"\nname = "sim-gas"\nkind = "gas"\n')
    host = build_plugin_manager(load_entry_points=False)
    agent = Agent(parse_config(text, source_types=host.source_types()), host=host)
    try:
        registry = CollectorRegistry()
        registry.register(AgentCollector(agent))
        return parse(generate_latest(registry).decode()).names()
    finally:
        agent.close()


def test_every_metric_an_alert_rule_uses_is_exposed(tmp_path: Path, sqlite_template):  # type: ignore[no-untyped-def]
    """Each hazmon_* name in an `expr` of alerts.yml is in the server's or the agent's /metrics output, and the
    rules cover the server's and the agent's names alike."""
    used = {rule["alert"]: set(re.findall(r"\bhazmon_\w+", rule["expr"])) for rule in _rules()}
    exposed = _server_names(tmp_path, sqlite_template) | _agent_names(tmp_path)
    missing = {alert: sorted(names - exposed) for alert, names in used.items() if names - exposed}
    assert missing == {}
    every = set().union(*used.values())
    assert any(n.startswith("hazmon_server_") for n in every) and any(n.startswith("hazmon_agent_") for n in every)
    assert 'up{job=~"hazmon-.*"} == 0' in [rule["expr"] for rule in _rules()]  # a target that stopped answering


def test_the_scrape_config_targets_the_default_server_port_and_loads_the_rules():
    """prometheus.yml scrapes the server on its default port and an agent, with alerts.yml as its rules."""
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]
    targets = {job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
               for job in config["scrape_configs"]}
    default = Settings.model_fields["port"].default
    assert targets == {"hazmon-server": [f"127.0.0.1:{default}"], "hazmon-agent": ["127.0.0.1:9108"]}

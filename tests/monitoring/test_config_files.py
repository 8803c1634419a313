"""The files of monitoring/: Prometheus config and alerts checked by promtool, dashboard, compose, jupyter-config."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
import yaml
from prometheus_client import CollectorRegistry

from orfeas_nb.monitoring.collector import ApiJobsCollector, HostCollector
from orfeas_nb.monitoring.definitions import metrics, request_metrics
from orfeas_nb.monitoring.readers import GpuMemory, HostSnapshot
from orfeas_nb.monitoring.record import record_generation

from .conftest import MONITORING, ROOT

pytestmark = pytest.mark.integration
PROMTOOL = shutil.which("promtool") or "promtool (apt-get install prometheus)"
METRIC_NAME = re.compile(r"\b(orfeas_[a-z0-9_]+)")


def exported_names() -> set[str]:
    """Every sample name the package exports, with one generation recorded and a GPU present."""
    registry = CollectorRegistry()
    metrics(registry).jobs_in_progress.set(0)
    request_metrics(registry).observe("GET", "jobs/{id}", 200, 0.01)
    with record_generation("image_to_3d", "relief", registry=registry) as generation:
        generation.stages["mesh"] = 0.1
        generation.triangles = 10
    snapshot = HostSnapshot(1.0, 1, 2, (GpuMemory("0", 1, 2, "nvml"),))
    registry.register(HostCollector(lambda: snapshot))
    registry.register(ApiJobsCollector(lambda: {"queued": 0, "running": 0}))
    return {sample.name for family in registry.collect() for sample in family.samples}


def promtool(*args: str, cwd=MONITORING) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, errors="replace", timeout=60)


def test_contract_metric_names_are_exported():
    names = exported_names()
    for name in ("orfeas_generations_total", "orfeas_generation_duration_seconds_bucket", "orfeas_gpu_memory_bytes",
                 "orfeas_cpu_usage_percent", "orfeas_memory_usage_bytes", "orfeas_jobs_in_progress",
                 "orfeas_job_queue_length", "orfeas_mesh_triangles_bucket", "orfeas_stage_duration_seconds_bucket",
                 "orfeas_requests_total", "orfeas_request_duration_seconds_bucket", "orfeas_api_jobs"):
        assert name in names


def test_prometheus_config_is_valid(tmp_path):
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(MONITORING / name, tmp_path / name)
    (tmp_path / "jupyter_token").write_text("secret")  # the token file the README asks for
    result = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    job = config["scrape_configs"][0]
    assert job["metrics_path"] == "/orfeas/metrics"
    assert job["authorization"]["type"] == "token"  # Jupyter reads "Authorization: token <TOKEN>"


def test_prometheus_config_without_token_file_is_refused(tmp_path):
    for name in ("prometheus.yml", "alerts.yml"):
        shutil.copy(MONITORING / name, tmp_path / name)
    result = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert "jupyter_token" in result.stdout + result.stderr


def test_alert_rules_are_valid_and_unit_tested():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 6 rules found" in result.stdout
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"][0]["rules"]
    tests = yaml.safe_load((MONITORING / "alerts_test.yml").read_text())["tests"]
    firing = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case["exp_alerts"]}
    quiet = {case["alertname"] for test in tests for case in test["alert_rule_test"] if not case["exp_alerts"]}
    names = {rule["alert"] for rule in rules}
    assert names == {"OrfeasGenerationFailureRatioHigh", "OrfeasGenerationSlow", "OrfeasGpuMemoryNearLimit", "OrfeasTargetDown",
                     "OrfeasApiServerErrorsHigh", "OrfeasApiSlow"}
    assert firing == names and quiet == names  # each alert is shown to fire and to stay quiet


@pytest.mark.parametrize(("threshold", "higher", "alert"), [("> 0.2", "> 0.5", "OrfeasGenerationFailureRatioHigh"),
                                                         ("> 0.05", "> 0.5", "OrfeasApiServerErrorsHigh"),
                                                         ("))) > 1\n", "))) > 5\n", "OrfeasApiSlow")])
def test_a_broken_alert_test_fails(tmp_path, threshold, higher, alert):
    """promtool really checks: the same tests against a rule with a higher threshold fail."""
    shutil.copy(MONITORING / "alerts_test.yml", tmp_path)
    text = (MONITORING / "alerts.yml").read_text()
    assert text.count(threshold) == 1
    (tmp_path / "alerts.yml").write_text(text.replace(threshold, higher))
    result = promtool("test", "rules", "alerts_test.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert alert in result.stdout + result.stderr


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "orfeas.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_dashboard_and_alert_expression_names_exported_metrics():
    names = exported_names()
    rules = yaml.safe_load((MONITORING / "alerts.yml").read_text())["groups"][0]["rules"]
    expressions = dashboard_expressions() + [rule["expr"] for rule in rules]
    used = {name for expr in expressions for name in METRIC_NAME.findall(expr)}
    assert used and used <= names, used - names
    # together they read every metric the package exports
    families = {re.sub(r"_(bucket|sum|count)$", "", n) for n in names if not n.endswith("_created")}
    read = {re.sub(r"_(bucket|sum|count)$", "", n) for n in used}
    assert families <= read, families - read


def test_dashboard_has_the_panels_operators_need():
    dashboard = json.loads((MONITORING / "grafana" / "dashboards" / "orfeas.json").read_text())
    titles = {panel["title"] for panel in dashboard["panels"]}
    assert {"Generation rate", "p95 generation time", "Success ratio", "GPU memory", "CPU", "Memory",
            "Request rate", "p95 request latency", "5xx ratio"} <= titles
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    datasource = yaml.safe_load((MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text())
    assert {p["datasource"]["uid"] for p in dashboard["panels"]} == {datasource["datasources"][0]["uid"]}
    provider = yaml.safe_load((MONITORING / "grafana/provisioning/dashboards/orfeas.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"


def test_compose_file_parses_and_mounts_files_that_exist():
    compose = yaml.safe_load((MONITORING / "docker-compose.yml").read_text())
    assert set(compose["services"]) == {"prometheus", "grafana"}
    for service in compose["services"].values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:")  # nothing exposed beyond the host by default
        for volume in service["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./") and source != "./jupyter_token":  # the token is the user's (README)
                assert (MONITORING / source).exists(), source
    mounts = compose["services"]["grafana"]["volumes"]
    assert "./grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts
    assert "jupyter_token" in (MONITORING / ".gitignore").read_text()


def test_jupyter_config_enables_the_extension_on_install():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    shared = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    ((source, target),) = shared.items()
    assert target == "etc/jupyter/jupyter_server_config.d/orfeas_nb.json"
    enabled = json.loads((ROOT / source).read_text())["ServerApp"]["jpserver_extensions"]
    assert enabled == {"orfeas_nb.server": True}
    from orfeas_nb import server

    assert server._jupyter_server_extension_points() == [{"module": "orfeas_nb.server"}]

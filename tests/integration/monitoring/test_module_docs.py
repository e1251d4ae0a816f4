"""The monitoring and governance modules document themselves through ansible-doc (auth options included) and are
in the action group that module_defaults uses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_auth import AUTH_ARGUMENT_SPEC

REPO = Path(__file__).resolve().parents[3]
MODULES = ("log_analytics_workspace", "application_insights", "diagnostic_setting", "action_group", "metric_alert",
           "log_alert", "budget", "policy_definition", "policy_assignment", "monitoring_info")


def test_ansible_doc_renders_every_module() -> None:
    names = [f"complianceflow.azure_infra.{m}" for m in MODULES]
    completed = subprocess.run([str(Path(sys.executable).with_name("ansible-doc")), "--json", *names], cwd=REPO,
                               capture_output=True, text=True, check=False, timeout=300)
    assert completed.returncode == 0, completed.stderr
    docs = json.loads(completed.stdout)
    assert set(docs) == set(names)
    for name, entry in docs.items():
        assert set(AUTH_ARGUMENT_SPEC) <= set(entry["doc"]["options"]), name
        assert entry["examples"].strip() and entry["return"], name


def test_action_group_lists_every_module() -> None:
    group = (REPO / "meta" / "runtime.yml").read_text().split("azure:", 1)[1]
    for module in MODULES:
        assert f"- {module}\n" in group, module


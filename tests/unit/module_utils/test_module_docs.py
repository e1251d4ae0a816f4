"""Every network-slice module documents itself through ansible-doc, auth options included, and belongs to the
action group that module_defaults uses. (That documented options match the argument spec is ansible-test
sanity's validate-modules job.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.azure_auth import AUTH_ARGUMENT_SPEC

REPO = Path(__file__).resolve().parents[3]
MODULES = ("resource_group", "resource_group_info", "virtual_network", "network_security_group", "private_dns_zone",
           "network_watcher", "flow_log", "storage_account", "storage_account_info", "network_info", "resource_info")


def test_ansible_doc_renders_every_module_with_auth_options_and_examples():
    names = [f"complianceflow.azure_infra.{m}" for m in MODULES]
    completed = subprocess.run([str(Path(sys.executable).with_name("ansible-doc")), "--json", *names], cwd=REPO,
                               capture_output=True, text=True, check=True, timeout=120)
    docs = json.loads(completed.stdout)
    assert set(docs) == set(names)
    for name, entry in docs.items():
        options = entry["doc"]["options"]
        assert set(AUTH_ARGUMENT_SPEC) | {"timeout"} <= set(options), name
        assert options["secret"]["type"] == "str"
        assert entry["examples"].strip(), name
        assert entry["return"], name


def test_action_group_lists_every_module():
    runtime = (REPO / "meta" / "runtime.yml").read_text()
    group = runtime.split("azure:", 1)[1]
    for module in MODULES:
        assert f"- {module}\n" in group, module

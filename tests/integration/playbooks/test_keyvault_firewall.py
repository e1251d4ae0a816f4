"""keyvault_runner_ip_ranges, tested for real: the emulator enforces the vault's firewall on its data plane (as
Azure does: ForbiddenByFirewall for an address outside ipRules that comes by no trusted path), so the runner
writes its generated secrets only when its address is in the ranges it declares."""

from __future__ import annotations

import json
from typing import Any

from tests.integration.playbooks.runner import run_playbook

RUNNER = "198.51.100.7"
TAGS = ("--tags", "resource_group,network,keyvault", "-e", "deployment_lock_mode=off")


def test_the_runner_writes_its_secrets_through_the_vault_firewall_only_from_its_declared_ranges(fresh: Any) -> None:
    fresh.set_options(keyvault_client_ip=RUNNER)  # the fresh fixture puts the option back afterwards
    outside = run_playbook(fresh, "site.yml", "westeu-test-1", *TAGS,
                           "-e", json.dumps({"keyvault_runner_ip_ranges": ["203.0.113.0/24"]}))
    assert outside.returncode != 0, outside.output
    assert "ForbiddenByFirewall" in outside.stdout, outside.output
    assert RUNNER in outside.stdout, outside.output

    inside = run_playbook(fresh, "site.yml", "westeu-test-1", *TAGS,
                          "-e", json.dumps({"keyvault_runner_ip_ranges": ["203.0.113.0/24", "198.51.100.0/28"]}))
    assert inside.returncode == 0, inside.output
    vault = next(r for r in fresh.resources() if r["type"].lower() == "microsoft.keyvault/vaults")
    rules = [rule["value"] for rule in vault["properties"]["networkAcls"]["ipRules"]]
    assert rules == ["203.0.113.0/24", "198.51.100.0/28"]
    assert "ForbiddenByFirewall" not in inside.stdout

"""site.yml (preflight, resource_group, network) and destroy.yml end to end against the emulator, for a test and
a production deployment: check mode, first build, idempotent re-run, drift repair, faults, destroy."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.playbooks.runner import compare_with_plan, run_playbook
from tests.integration.request_log import writes

pytestmark = [pytest.mark.emulator, pytest.mark.slow]

DEPLOYMENTS = ["westeu-test-1", "westeu-prod-1"]
NETWORK_API = "2024-05-01"
WATCHER_GROUP = "NetworkWatcherRG"


# This file proves the network slice; test_site_whole_stack.py runs the whole stack.
SLICE = ("--tags", "resource_group,network")
# These tests run on a subscription without the state storage account (tests/integration/operations/ test the lock).
NO_LOCK = ("-e", "deployment_lock_mode=off")


def build(emulator: Any, deployment: str, *args: str) -> Any:
    run = run_playbook(emulator, "site.yml", deployment, *SLICE, *NO_LOCK, *args)
    assert run.returncode == 0, run.output
    assert run.recap.get("failed") == 0, run.output
    return run


def shared_ids(emulator: Any) -> list[str]:
    """The Network Watcher's group: created by the role when missing, shared, never in a deployment's plan."""
    return [f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{WATCHER_GROUP}"]


def resource(emulator: Any, rid: str) -> dict[str, Any] | None:
    for found in emulator.resources():
        if str(found.get("id", "")).lower() == rid.lower():
            return found
    return None


def security_rule(emulator: Any, nsg_id: str, name: str) -> dict[str, Any]:
    nsg = resource(emulator, nsg_id)
    assert nsg is not None, f"{nsg_id} does not exist"
    rules = [r for r in nsg["properties"].get("securityRules") or [] if r["name"] == name]
    assert rules, f"{nsg_id} has no rule {name}"
    return rules[0]


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_check_mode_creates_nothing_and_reports_changes(fresh: Any, deployment: str) -> None:
    mark = len(fresh.requests())
    run = build(fresh, deployment, "--check")
    assert run.recap["changed"] > 0, run.output
    assert writes(fresh.requests()[mark:]) == []
    assert fresh.resources() == []


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_build_matches_plan_is_idempotent_and_repairs_drift(fresh: Any, plans: Any, deployment: str) -> None:
    from azure.mgmt.network import NetworkManagementClient

    first = build(fresh, deployment)
    assert first.recap["changed"] > 0
    problems = compare_with_plan(plans[deployment], fresh.resources(), shared_ids(fresh))
    assert problems == [], "\n".join(problems)

    mark = len(fresh.requests())
    second = build(fresh, deployment)
    assert second.recap["changed"] == 0, second.output
    assert writes(fresh.requests()[mark:]) == []

    # Someone opens the database subnet to every port, through the REST API.
    nsg_name = f"nsg-cf-{deployment}-db"
    nsg_id = next(r["id"] for r in plans[deployment] if r["name"] == nsg_name)
    rule = security_rule(fresh, nsg_id, "allow-postgresql-from-containerapps")
    assert rule["properties"]["destinationPortRange"] == "5432"
    client = fresh.mgmt_client(NetworkManagementClient, api_version=NETWORK_API)
    tampered = {k: v for k, v in rule["properties"].items() if k not in ("provisioningState", "etag")}
    tampered["destinationPortRange"] = "0-65535"
    client.security_rules.begin_create_or_update(f"rg-cf-{deployment}", nsg_name, rule["name"],
                                                 {"properties": tampered}).result()
    assert security_rule(fresh, nsg_id, rule["name"])["properties"]["destinationPortRange"] == "0-65535"

    mark = len(fresh.requests())
    checked = build(fresh, deployment, "--check", "--diff")
    assert checked.recap["changed"] == 1, checked.output
    assert "0-65535" in checked.stdout and "5432" in checked.stdout, checked.output
    assert writes(fresh.requests()[mark:]) == []

    repaired = build(fresh, deployment)
    assert repaired.recap["changed"] == 1, repaired.output
    assert security_rule(fresh, nsg_id, rule["name"])["properties"]["destinationPortRange"] == "5432"
    problems = compare_with_plan(plans[deployment], fresh.resources(), shared_ids(fresh))
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_converges_under_faults_and_destroy_removes_the_deployment(fresh: Any, plans: Any, deployment: str) -> None:
    fresh.set_faults("429:0.1,503:0.1,another-operation:0.1")
    build(fresh, deployment)
    fresh.set_faults("")
    faulted = [e for e in fresh.requests() if int(e.get("status") or 0) in (409, 429, 503)]
    assert faulted, "the fault spec injected nothing; the test would prove nothing"
    problems = compare_with_plan(plans[deployment], fresh.resources(), shared_ids(fresh))
    assert problems == [], "\n".join(problems)

    protected = any(r["type"] == "Microsoft.Authorization/locks" for r in plans[deployment])
    assert protected == (deployment == "westeu-prod-1")
    rg_id = next(r["id"] for r in plans[deployment] if r["type"] == "Microsoft.Resources/resourceGroups")
    if protected:
        refused = run_playbook(fresh, "playbooks/destroy.yml", deployment, *NO_LOCK)
        assert refused.returncode != 0
        assert f"confirm_destroy={deployment}" in refused.stdout, refused.output
        assert resource(fresh, rg_id) is not None, "a refused destroy must delete nothing"
        destroyed = run_playbook(fresh, "playbooks/destroy.yml", deployment, *NO_LOCK,
                                 "-e", f"confirm_destroy={deployment}")
    else:
        destroyed = run_playbook(fresh, "playbooks/destroy.yml", deployment, *NO_LOCK)
    assert destroyed.returncode == 0, destroyed.output

    watcher_id = next(r["id"] for r in plans[deployment] if r["type"] == "Microsoft.Network/networkWatchers")
    kept = {rid.lower() for rid in [*shared_ids(fresh), watcher_id]}
    left = [r["id"] for r in fresh.resources() if str(r.get("id", "")).lower() not in kept]
    assert left == [], f"destroy left {left}"
    # The watcher stays: other deployments in the region use it.
    assert resource(fresh, watcher_id) is not None


def test_roles_refuse_to_run_without_the_deployment_fact(emulator: Any, tmp_path: Any) -> None:
    playbook = tmp_path / "no_preflight.yml"
    playbook.write_text(
        "- hosts: all\n  gather_facts: false\n  roles:\n    - complianceflow.azure_infra.network\n")
    run = run_playbook(emulator, str(playbook), "westeu-test-1")
    assert run.returncode != 0
    assert "run preflight first" in run.stdout, run.output

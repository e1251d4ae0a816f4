"""The deployment model of every deployment with an inventory (westeu-test-1, westeu-prod-1 ...), built from the real
registries and inventories.

The inputs are gathered as roles/preflight/tasks/main.yml does (scripts/generate_docs.deployment_inputs);
the snapshot tests run playbooks/plan.yml for real and compare with the committed snapshots only. Refresh the
snapshots after an intended change with a separate command that `make test` never runs:

    make plan-snapshots          # tests/unit/refresh_plan_snapshots.py

and review the diff of tests/unit/snapshots/ like code.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.complianceflow.azure_infra.plugins.module_utils import deployment_model
from scripts.generate_docs import deployment_inputs
from tests.unit.test_naming_rules import AZURE_RULES

REPO = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
# Every deployment with an inventory: a new inventory gets its snapshot with `make plan-snapshots`.
DEPLOYMENTS = tuple(sorted(p.parent.name for p in (REPO / "inventories").glob("*/hosts.yml")))

# ARM type -> naming kind (test_naming_rules.AZURE_RULES); None: a name Azure or the service fixes.
KIND_OF_TYPE: dict[str, str | None] = {
    "Microsoft.Resources/resourceGroups": "resource_group",
    "Microsoft.Authorization/locks": "management_lock",
    "Microsoft.Network/virtualNetworks": "virtual_network",
    "Microsoft.Network/virtualNetworks/subnets": "subnet",
    "Microsoft.Network/networkSecurityGroups": "network_security_group",
    "Microsoft.Network/privateDnsZones": None,
    "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "private_dns_link",
    "Microsoft.Storage/storageAccounts": "storage_account",
    "Microsoft.Network/networkWatchers": "network_watcher",
    "Microsoft.Network/networkWatchers/flowLogs": "flow_log",
    "Microsoft.OperationalInsights/workspaces": "log_analytics_workspace",
    "Microsoft.Insights/components": "application_insights",
    "Microsoft.KeyVault/vaults": "key_vault",
    "Microsoft.Authorization/roleAssignments": None,
    "Microsoft.ManagedIdentity/userAssignedIdentities": "managed_identity",
    "Microsoft.Network/privateEndpoints": "private_endpoint",
    "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "private_dns_zone_group",
    "Microsoft.KeyVault/vaults/secrets": "key_vault_secret",
    "Microsoft.DBforPostgreSQL/flexibleServers": "postgresql_server",
    "Microsoft.DBforPostgreSQL/flexibleServers/configurations": None,
    "Microsoft.DBforPostgreSQL/flexibleServers/databases": "postgresql_database",
    "Microsoft.Cache/redis": "redis",
    "Microsoft.EventHub/namespaces": "eventhub_namespace",
    "Microsoft.EventHub/namespaces/networkRuleSets": None,
    "Microsoft.EventHub/namespaces/eventhubs": "event_hub",
    "Microsoft.EventHub/namespaces/eventhubs/consumergroups": "consumer_group",
    "Microsoft.EventHub/namespaces/eventhubs/authorizationRules": "sas_rule",
    "Microsoft.Insights/diagnosticSettings": "diagnostic_setting",
    "Microsoft.Insights/actionGroups": "action_group",
    "Microsoft.Insights/metricAlerts": "metric_alert",
    "Microsoft.Insights/scheduledQueryRules": "log_alert",
    "Microsoft.Insights/activityLogAlerts": "log_alert",
    "Microsoft.Insights/webtests": "availability_test",
    "Microsoft.CostManagement/scheduledActions": "cost_anomaly_alert",
    "Microsoft.Consumption/budgets": "budget",
    "Microsoft.Authorization/policyAssignments": "policy_assignment",
    "Microsoft.Authorization/policyDefinitions": "policy_definition",
    "Microsoft.ContainerRegistry/registries": "container_registry",
    "Microsoft.Security/pricings": None,
    "Microsoft.App/managedEnvironments": "container_apps_environment",
    "Microsoft.Network/privateDnsZones/A": None,
    "Microsoft.KeyVault/vaults/certificates": "key_vault_secret",
    "Microsoft.Network/publicIPAddresses": "public_ip",
    "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies": "waf_policy",
    "Microsoft.Network/applicationGateways": "application_gateway",
}
# Names that are not ours to choose, checked against what Azure fixes them to.
FIXED_NAMES: dict[str, str] = {
    # A zone is named after a privatelink domain, or after the default domain Azure gives the Container Apps
    # environment (known at run time).
    "Microsoft.Network/privateDnsZones": r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.){2,}[a-z]{2,}"
                                         r"|<runtime:public-property:[^<>]+/managedEnvironments/[^<>]+"
                                         r":properties\.defaultDomain>",
    # The environment's wildcard and apex records.
    "Microsoft.Network/privateDnsZones/A": r"[*@]",
    "Microsoft.Authorization/roleAssignments": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "Microsoft.DBforPostgreSQL/flexibleServers/configurations": r"[a-z_]+(\.[a-z_]+)?",
    "Microsoft.EventHub/namespaces/networkRuleSets": r"default",
    # Defender for Cloud plans are named by Azure.
    "Microsoft.Security/pricings": r"Containers",
}


def models() -> dict[str, dict[str, Any]]:
    built = {}
    for deployment in DEPLOYMENTS:
        inputs = deployment_inputs(REPO / "inventories" / deployment)
        assert deployment_model.validate_inputs(inputs) == [], deployment
        built[deployment] = deployment_model.build_deployment(inputs)
    return built


MODELS = models()
TEST, PROD = MODELS["westeu-test-1"], MODELS["westeu-prod-1"]


def by_type(model: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r for r in model["resources"] if r["type"] == rtype]


# --- the "Done when" ------------------------------------------------------------------

def test_westeu_test_1_address_plan() -> None:
    assert TEST["address_space"] == "10.10.0.0/16"
    assert {t: s["address_prefix"] for t, s in TEST["subnets"].items()} == {
        "containerapps": "10.10.1.0/24", "db": "10.10.2.0/24", "redis": "10.10.3.0/24",
        "storage": "10.10.4.0/24", "appgw": "10.10.6.0/24", "mgmt": "10.10.10.0/24"}
    prefixes = {r["properties"]["addressPrefix"] for r in by_type(TEST, "Microsoft.Network/virtualNetworks/subnets")}
    assert "10.10.5.0/24" not in prefixes and len(prefixes) == 6


def test_westeu_prod_1_address_plan_includes_apim() -> None:
    assert PROD["address_space"] == "10.30.0.0/16"
    subnets = {t: s["address_prefix"] for t, s in PROD["subnets"].items()}
    assert subnets["apim"] == "10.30.5.0/24"
    assert sorted(subnets.values(), key=ipaddress.ip_network) == [
        "10.30.1.0/24", "10.30.2.0/24", "10.30.3.0/24", "10.30.4.0/24", "10.30.5.0/24", "10.30.6.0/24",
        "10.30.10.0/24"]
    [vnet] = by_type(PROD, "Microsoft.Network/virtualNetworks")
    assert vnet["properties"]["addressSpace"]["addressPrefixes"] == ["10.30.0.0/16"]


# The seed's CIDR table (ECS-19) and region codes, restated so that an inventory in the wrong group or a changed
# allocation fails here: deployment -> (Azure location, address space, tier's Redis SKU, APIM subnet planned).
SEED_DEPLOYMENTS = {
    "westeu-test-1": ("westeurope", "10.10.0.0/16", "Basic", False),
    "westeu-stg-1": ("westeurope", "10.20.0.0/16", "Standard", False),
    "westeu-prod-1": ("westeurope", "10.30.0.0/16", "Premium", True),
    "eastus-prod-1": ("eastus", "10.40.0.0/16", "Premium", True),
}


@pytest.mark.parametrize("deployment", sorted(SEED_DEPLOYMENTS))
def test_seed_deployment_location_address_space_and_tier(deployment: str) -> None:
    location, address_space, redis_sku, apim = SEED_DEPLOYMENTS[deployment]
    model = MODELS[deployment]
    assert (model["location"], model["address_space"]) == (location, address_space)
    assert model["tier"]["redis"]["sku_name"] == redis_sku
    assert ("apim" in model["subnets"]) is apim
    network = ipaddress.ip_network(address_space)
    assert all(ipaddress.ip_network(s["address_prefix"]).subnet_of(network) for s in model["subnets"].values())
    assert model["names"]["resource_group"] == f"rg-cf-{deployment}"
    [group] = [r for r in by_type(model, "Microsoft.Resources/resourceGroups") if r["name"] == f"rg-cf-{deployment}"]
    assert group["location"] == location


def test_every_seed_deployment_has_an_inventory_and_names_do_not_collide() -> None:
    assert set(SEED_DEPLOYMENTS) <= set(DEPLOYMENTS)
    globally_unique = ("key_vault", "storage_account", "redis", "eventhub_namespace", "postgresql_server",
                       "container_registry")
    for kind in globally_unique:
        names = [MODELS[d]["names"][kind] for d in DEPLOYMENTS if kind in MODELS[d]["names"]]
        assert len(names) == len(DEPLOYMENTS) and len(set(names)) == len(names), (kind, names)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_name_is_valid_for_its_azure_type(deployment: str) -> None:
    model = MODELS[deployment]
    checked = 0
    for resource in model["resources"]:
        rtype, name = resource["type"], resource["name"]
        assert rtype in KIND_OF_TYPE, f"{rtype} has no naming kind in this test: add it"
        kind = KIND_OF_TYPE[rtype]
        if kind is None:
            assert re.fullmatch(FIXED_NAMES[rtype], name), (rtype, name)
        else:
            assert not AZURE_RULES[kind].check(name), (rtype, name, AZURE_RULES[kind].check(name))
        checked += 1
        for rule in resource["properties"].get("securityRules", []):
            assert not AZURE_RULES["security_rule"].check(rule["name"]), rule["name"]
        if "groupShortName" in resource["properties"]:
            assert not AZURE_RULES["action_group_short"].check(resource["properties"]["groupShortName"])
    assert checked == len(model["resources"]) > 100


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_ids_are_unique_and_end_with_the_name(deployment: str) -> None:
    ids = [r["id"] for r in MODELS[deployment]["resources"]]
    # ARM resource IDs are case-insensitive: two IDs differing only in case are the same resource.
    assert len({i.lower() for i in ids}) == len(ids)
    sub = f"/subscriptions/{MODELS[deployment]['subscription_id']}/"
    for resource in MODELS[deployment]["resources"]:
        assert resource["id"].startswith(sub)
        assert resource["id"].endswith("/" + resource["name"])


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_dependency_is_in_the_plan_and_comes_first(deployment: str) -> None:
    model = MODELS[deployment]
    watcher_rg = f"/subscriptions/{model['subscription_id']}/resourceGroups/NetworkWatcherRG"
    position = {r["id"]: i for i, r in enumerate(model["resources"])}
    for index, resource in enumerate(model["resources"]):
        for dependency in resource["depends_on"]:
            assert dependency in position or dependency == watcher_rg, (resource["id"], dependency)
            if dependency in position:
                # Roles apply the plan in order; a dependency listed later would be created too late.
                assert position[dependency] < index, (resource["id"], dependency)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_every_tagged_resource_carries_the_tag_policy(deployment: str) -> None:
    model = MODELS[deployment]
    expected = {"app": "complianceflow", "env": model["env"], "owner": "platform-team",
                "deployment": deployment, "region": SEED_DEPLOYMENTS.get(deployment, (model["location"],))[0],
                "managedBy": "ansible"}
    tagged = [r for r in model["resources"] if r.get("tags")]
    assert any(r["type"] == "Microsoft.Resources/resourceGroups" for r in tagged)
    for resource in tagged:
        assert expected.items() <= resource["tags"].items(), resource["id"]
        assert resource["tags"]["costCenter"].startswith("CC-")


# --- tier differences -------------------------------------------------------------------------

def test_only_prod_is_locked() -> None:
    [lock] = by_type(PROD, "Microsoft.Authorization/locks")
    assert lock["properties"]["level"] == "CanNotDelete"
    assert lock["id"].startswith(PROD["resource_group_id"] + "/")
    assert by_type(TEST, "Microsoft.Authorization/locks") == []


def test_postgresql_ha_and_backups_by_tier() -> None:
    [prod_pg] = by_type(PROD, "Microsoft.DBforPostgreSQL/flexibleServers")
    [test_pg] = by_type(TEST, "Microsoft.DBforPostgreSQL/flexibleServers")
    assert prod_pg["properties"]["highAvailability"] == {"mode": "ZoneRedundant"}
    assert prod_pg["properties"]["backup"]["geoRedundantBackup"] == "Enabled"
    assert test_pg["properties"]["highAvailability"] == {"mode": "Disabled"}
    assert test_pg["sku"]["tier"] == "Burstable"
    for pg, model in ((prod_pg, PROD), (test_pg, TEST)):
        assert pg["properties"]["network"]["delegatedSubnetResourceId"] == model["subnets"]["db"]["id"]


def test_redis_premium_only_in_prod() -> None:
    [prod_redis] = by_type(PROD, "Microsoft.Cache/redis")
    [test_redis] = by_type(TEST, "Microsoft.Cache/redis")
    assert prod_redis["properties"]["sku"] == {"name": "Premium", "family": "P", "capacity": 1}
    assert prod_redis["properties"]["shardCount"] == 2
    assert prod_redis["zones"] == ["1", "2", "3"]
    assert prod_redis["properties"]["redisConfiguration"]["rdb-backup-enabled"] == "true"
    assert test_redis["properties"]["sku"]["name"] == "Basic"
    assert "zones" not in test_redis and "shardCount" not in test_redis["properties"]


def test_key_vault_purge_protection_only_in_prod() -> None:
    [prod_kv] = by_type(PROD, "Microsoft.KeyVault/vaults")
    [test_kv] = by_type(TEST, "Microsoft.KeyVault/vaults")
    assert prod_kv["properties"]["enablePurgeProtection"] is True
    # Azure refuses enablePurgeProtection=false once set, so the test tier must leave it out entirely.
    assert "enablePurgeProtection" not in test_kv["properties"]


def test_premium_skus_are_denied_outside_prod() -> None:
    def deny(model: dict[str, Any]) -> list[dict[str, Any]]:
        return [r for r in by_type(model, "Microsoft.Authorization/policyAssignments") if "deny-premium" in r["name"]]

    [policy] = deny(TEST)
    assert "Premium" in policy["properties"]["parameters"]["deniedSkus"]["value"]
    assert deny(PROD) == []


def test_apim_nsg_only_in_prod_and_nsgs_end_with_deny_all() -> None:
    for model in (TEST, PROD):
        for nsg in by_type(model, "Microsoft.Network/networkSecurityGroups"):
            rules = nsg["properties"]["securityRules"]
            priorities = [r["properties"]["priority"] for r in rules]
            assert len(set(priorities)) == len(priorities), nsg["name"]
            assert rules[-1]["name"] == "deny-all-inbound" and priorities[-1] == 4096
    assert any(n["name"].endswith("-apim") for n in by_type(PROD, "Microsoft.Network/networkSecurityGroups"))
    assert not any(n["name"].endswith("-apim") for n in by_type(TEST, "Microsoft.Network/networkSecurityGroups"))


def test_admin_ranges_reach_only_mgmt() -> None:
    mgmt = {r["name"]: r["properties"] for r in PROD["subnets"]["mgmt"]["nsg_rules"]}
    assert mgmt["allow-ssh-from-admin-ranges"]["sourceAddressPrefixes"] == ["203.0.113.0/24", "198.51.100.16/28"]
    assert mgmt["allow-ssh-from-admin-ranges"]["destinationAddressPrefix"] == "10.30.10.0/24"
    for tier, subnet in PROD["subnets"].items():
        if tier != "mgmt":
            assert not any(r["properties"].get("destinationPortRange") in ("22", "3389") for r in subnet["nsg_rules"])


def test_one_database_and_consumer_groups_per_registry_entry() -> None:
    databases = [r["name"] for r in by_type(TEST, "Microsoft.DBforPostgreSQL/flexibleServers/databases")]
    assert "complianceflow_user_westeu_test_1" in databases and len(databases) == 8
    hubs = {r["name"]: r["properties"]["partitionCount"] for r in by_type(TEST, "Microsoft.EventHub/namespaces/eventhubs")}
    assert hubs == {"user-events": 2, "declaration-events": 4, "review-events": 2, "case-events": 2,
                    "notification-events": 4, "analytics-events": 2}


def test_placeholder_subscription_is_flagged() -> None:
    assert TEST["subscription_id"] == deployment_model.PLACEHOLDER_SUBSCRIPTION
    assert TEST["subscription_is_placeholder"] is True


# --- snapshots of the real plan.yml output ----------------------------------------------------

@pytest.fixture(scope="module")
def plan_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    plan_dir = tmp_path_factory.mktemp("plan")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env["ANSIBLE_CONFIG"] = str(REPO / "ansible.cfg")
    command = [str(Path(sys.executable).with_name("ansible-playbook")), str(REPO / "playbooks" / "plan.yml"),
               "-e", f"plan_dir={plan_dir}"]
    for deployment in DEPLOYMENTS:
        command += ["-i", str(REPO / "inventories" / deployment)]
    result = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Address space 10.10.0.0/16" in result.stdout and "Address space 10.30.0.0/16" in result.stdout
    return {d: plan_dir / f"{d}.json" for d in DEPLOYMENTS}


@pytest.mark.slow
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_plan_matches_snapshot(deployment: str, plan_files: dict[str, Path]) -> None:
    produced = json.loads(plan_files[deployment].read_text())
    snapshot = SNAPSHOTS / f"{deployment}.json"
    assert snapshot.is_file(), f"no committed snapshot for {deployment}: run `make plan-snapshots` and review it"
    expected = json.loads(snapshot.read_text())
    assert produced == expected, (
        f"the plan of {deployment} changed; if intended, run `make plan-snapshots` and review "
        f"the diff of {snapshot.relative_to(REPO)}")


@pytest.mark.slow
@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_plan_file_is_the_model(deployment: str, plan_files: dict[str, Path]) -> None:
    """What plan.yml writes is exactly plan_document() of the model built without Ansible."""
    produced = json.loads(plan_files[deployment].read_text())
    assert produced == json.loads(json.dumps(deployment_model.plan_document(MODELS[deployment])))
    assert set(produced) == {"deployment", "location", "subscription_id", "resources"}
    for resource in produced["resources"]:
        assert {"type", "name", "id", "api_version", "role", "location", "properties", "depends_on"} <= set(resource)


# --- generated docs (tables of this model in docs/*.md) ----------------------------------------

def _generate_docs(root: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO / "scripts" / "generate_docs.py"), mode, "--root", str(root)],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def docs_copy(tmp_path: Path) -> Path:
    """A copy of what the docs are generated from, so the real tree is never touched."""
    for folder in ("group_vars", "inventories", "docs"):
        shutil.copytree(REPO / folder, tmp_path / folder, symlinks=True)
    return tmp_path


def _outside_markers(text: str) -> str:
    return re.sub(r"<!-- BEGIN GENERATED: ([a-z0-9-]+) -->.*?<!-- END GENERATED: \1 -->", "", text, flags=re.DOTALL)


def test_committed_docs_are_fresh() -> None:
    result = _generate_docs(REPO, "--check")
    assert result.returncode == 0, result.stderr


def test_docs_check_names_the_stale_files_and_write_fixes_only_the_tables(docs_copy: Path) -> None:
    registry = docs_copy / "group_vars" / "all.yml"
    registry.write_text(registry.read_text().replace("  westeu-test-1: 10.10.0.0/16\n",
                                                     "  westeu-test-1: 10.10.0.0/16\n  westeu-dev-1: 10.0.0.0/16\n"))
    prose_before = {p.name: _outside_markers(p.read_text()) for p in (docs_copy / "docs").glob("*.md")}

    stale = _generate_docs(docs_copy, "--check")
    assert stale.returncode == 1
    assert "docs/cidr-plan.md" in stale.stderr and "docs/deployments.md" in stale.stderr
    assert "docs/naming.md" not in stale.stderr  # naming does not depend on the allocation table

    assert _generate_docs(docs_copy, "--write").returncode == 0
    assert _generate_docs(docs_copy, "--check").returncode == 0
    cidr_doc = (docs_copy / "docs" / "cidr-plan.md").read_text()
    assert "| `westeu-dev-1` | `10.0.0.0/16` |" in cidr_doc
    assert "Next free /16 (`make next-cidr`): `10.1.0.0/16`." in cidr_doc
    assert {p.name: _outside_markers(p.read_text()) for p in (docs_copy / "docs").glob("*.md")} == prose_before


def test_docs_check_catches_a_hand_edit_inside_a_table(docs_copy: Path) -> None:
    naming_doc = docs_copy / "docs" / "naming.md"
    text = naming_doc.read_text()
    row = "| `virtual_network` | `Microsoft.Network/virtualNetworks` |"
    assert row in text
    naming_doc.write_text(text.replace(row, "| `virtual_network` | `Microsoft.Network/vnets` |"))
    result = _generate_docs(docs_copy, "--check")
    assert result.returncode == 1 and "docs/naming.md" in result.stderr


def test_shared_short_codes_are_refused_naming_both_entries() -> None:
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    inputs["regions"] = {**inputs["regions"], "northeu": {"location": "northeurope", "short": "weu"}}
    problems = deployment_model.validate_inputs(inputs)
    assert any("cf_regions.northeu.short" in p and "westeu" in p for p in problems), problems


# --- container registry (issue 11) ------------------------------------------------------------

def test_registry_is_standard_and_public_outside_prod_premium_and_private_in_prod() -> None:
    [test_acr] = by_type(TEST, "Microsoft.ContainerRegistry/registries")
    [prod_acr] = by_type(PROD, "Microsoft.ContainerRegistry/registries")
    for acr in (test_acr, prod_acr):
        assert acr["properties"]["adminUserEnabled"] is False
        assert acr["properties"]["anonymousPullEnabled"] is False
    assert test_acr["sku"] == {"name": "Standard"}
    # Standard has no retention policy for untagged manifests: Azure refuses one, so the body leaves it out.
    assert "retentionPolicy" not in test_acr["properties"]["policies"]
    assert test_acr["properties"]["publicNetworkAccess"] == "Enabled"
    assert test_acr["properties"]["zoneRedundancy"] == "Disabled"
    assert prod_acr["sku"] == {"name": "Premium"}
    assert prod_acr["properties"]["policies"]["retentionPolicy"] == {"status": "enabled", "days": 30}
    assert prod_acr["properties"]["publicNetworkAccess"] == "Disabled"
    assert prod_acr["properties"]["zoneRedundancy"] == "Enabled"
    assert not [r for r in TEST["resources"] if "azurecr" in r["id"] or r["name"].endswith("-acr")]
    [endpoint] = [r for r in by_type(PROD, "Microsoft.Network/privateEndpoints") if r["name"].endswith("-acr")]
    assert endpoint["properties"]["subnet"]["id"] == PROD["subnets"]["storage"]["id"]
    connection = endpoint["properties"]["privateLinkServiceConnections"][0]["properties"]
    assert connection == {"privateLinkServiceId": prod_acr["id"], "groupIds": ["registry"]}
    zone_id = PROD["registry"]["private_dns_zone"]
    assert zone_id.endswith("/privateDnsZones/privatelink.azurecr.io")
    assert {zone_id, endpoint["properties"]["subnet"]["id"], prod_acr["id"]} <= {
        d for r in PROD["resources"] if r["id"].startswith(endpoint["id"]) for d in r["depends_on"]}
    # The storage subnet's NSG lets the services reach the endpoint over HTTPS.
    [rule] = [r for r in PROD["subnets"]["storage"]["nsg_rules"] if r["name"] == "allow-https-from-containerapps"]
    assert rule["properties"]["sourceAddressPrefix"] == PROD["subnets"]["containerapps"]["address_prefix"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_registry_sends_logs_and_metrics_to_the_workspace_and_defender_scans_its_images(deployment: str) -> None:
    model = MODELS[deployment]
    acr_id = model["ids"]["container_registry"]
    [setting] = [r for r in by_type(model, "Microsoft.Insights/diagnosticSettings") if r["id"].startswith(acr_id + "/")]
    assert setting["properties"]["workspaceId"] == model["ids"]["log_analytics_workspace"]
    assert setting["properties"]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    [defender] = by_type(model, "Microsoft.Security/pricings")
    assert defender["id"] == f"/subscriptions/{model['subscription_id']}/providers/Microsoft.Security/pricings/Containers"
    assert defender["properties"]["pricingTier"] == "Standard"
    assert {"name": "ContainerRegistriesVulnerabilityAssessments", "isEnabled": "True"} in \
        defender["properties"]["extensions"]


def test_defender_for_containers_can_be_left_out() -> None:
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    inputs["defender_for_containers"] = False
    assert deployment_model.validate_inputs(inputs) == []
    assert by_type(deployment_model.build_deployment(inputs), "Microsoft.Security/pricings") == []
    inputs["defender_for_containers"] = "no"
    assert any("registry_defender_for_containers:" in p for p in deployment_model.validate_inputs(inputs))


def test_premium_registry_denied_outside_prod_unless_the_exception_is_explicit() -> None:
    [policy] = by_type(TEST, "Microsoft.Authorization/policyDefinitions")
    rule = json.dumps(policy["properties"]["policyRule"])
    assert "Microsoft.ContainerRegistry/registries/sku.name" in rule
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    tier = inputs["tier"]
    tier["registry"] = {**tier["registry"], "sku": "Premium"}
    problems = deployment_model.validate_inputs(inputs)
    assert any("cf_tier.registry.sku:" in p and "allowed_sku_whitelist" in p for p in problems), problems
    tier["policy"] = {**tier["policy"], "allowed_sku_whitelist": ["Premium"]}
    assert deployment_model.validate_inputs(inputs) == []
    [assignment] = [r for r in by_type(deployment_model.build_deployment(inputs),
                                       "Microsoft.Authorization/policyAssignments") if "deny-premium" in r["name"]]
    assert "Premium" not in assignment["properties"]["parameters"]["deniedSkus"]["value"]


def _allowed_extensions(model: dict[str, Any]) -> str:
    [allow_list] = [r for r in by_type(model, "Microsoft.DBforPostgreSQL/flexibleServers/configurations")
                    if r["name"] == "azure.extensions"]
    return str(allow_list["properties"]["value"])


def test_the_servers_extension_allow_list_is_what_the_database_role_creates() -> None:
    """Azure refuses CREATE EXTENSION for an extension azure.extensions does not list: another extension in
    database_extensions reaches the allow-list without a second setting."""
    assert _allowed_extensions(TEST) == "pg_stat_statements,pg_trgm,uuid-ossp"
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    inputs["database_extensions"] = ["uuid-ossp", "pgcrypto", "pg_trgm", "pgcrypto"]
    assert deployment_model.validate_inputs(inputs) == []
    assert _allowed_extensions(deployment_model.build_deployment(inputs)) == "pg_trgm,pgcrypto,uuid-ossp"
    for bad in (["PostGIS"], ["pg_trgm; drop"], "pg_trgm", [1]):
        inputs["database_extensions"] = bad
        assert any(": database_extensions: " in p for p in deployment_model.validate_inputs(inputs)), bad


@pytest.mark.parametrize(("setting", "value", "variable"), [
    ("retention_days", 7, "cf_tier.registry.retention_days"),
    ("private_endpoint", True, "cf_tier.registry.private_endpoint"),
    ("zone_redundancy", True, "cf_tier.registry.zone_redundancy"),
    ("sku", "Classic", "cf_tier.registry.sku"),
])
def test_premium_only_registry_settings_are_refused_on_standard(setting: str, value: Any, variable: str) -> None:
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    inputs["tier"]["registry"] = {**inputs["tier"]["registry"], setting: value}
    problems = deployment_model.validate_inputs(inputs)
    assert any(f"{variable}:" in p for p in problems), problems


# --- secret expiry and the near-expiry alert -----------------------------------------------------------------


def test_credentials_expire_after_the_tiers_rotation_period_and_the_rest_never() -> None:
    never = {"appinsights-connection-string", "deployment-outputs"}
    secrets = {r["name"]: r["properties"] for r in by_type(TEST, "Microsoft.KeyVault/vaults/secrets")}
    days = TEST["tier"]["keyvault"]["secret_expiry_days"]
    assert days == 90
    for name, props in secrets.items():
        expected = None if name in never else {"exp": f"<runtime:expires-in-days:{days}>"}
        assert props.get("attributes") == expected, name
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    inputs["tier"]["keyvault"] = {**inputs["tier"]["keyvault"], "secret_expiry_days": None}
    assert deployment_model.validate_inputs(inputs) == []
    assert all("attributes" not in r["properties"] for r in by_type(deployment_model.build_deployment(inputs),
                                                                    "Microsoft.KeyVault/vaults/secrets"))


@pytest.mark.parametrize("days", [30, 0, "90", True, 4000])
def test_an_expiry_key_vault_would_announce_at_once_or_not_a_number_is_refused(days: Any) -> None:
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    inputs["tier"]["keyvault"] = {**inputs["tier"]["keyvault"], "secret_expiry_days": days}
    problems = deployment_model.validate_inputs(inputs)
    assert any("cf_tier.keyvault.secret_expiry_days:" in p for p in problems), problems


def test_near_expiry_alert_reads_the_vaults_audit_events_in_the_workspace_per_tier() -> None:
    for model in (TEST, PROD):
        [alert] = [a for a in by_type(model, "Microsoft.Insights/scheduledQueryRules")
                   if a["name"].endswith("-kv-secret-near-expiry")]
        props = alert["properties"]
        assert props["scopes"] == [model["ids"]["log_analytics_workspace"]]
        [criterion] = props["criteria"]["allOf"]
        assert '"SecretNearExpiryEventGridNotification"' in criterion["query"]
        assert 'Category == "AuditEvent"' in criterion["query"]
        assert criterion["threshold"] == model["tier"]["monitoring"]["alerts"]["keyvault_secrets_near_expiry"]
        assert (props["windowSize"], props["evaluationFrequency"]) == ("P1D", "PT1H")
        assert "secret-near-expiry.md" in props["displayName"]
        # The alert reads what the vault's diagnostic setting sends.
        assert any(d["id"].lower().startswith(model["ids"]["key_vault"].lower() + "/providers/")
                   for d in by_type(model, "Microsoft.Insights/diagnosticSettings"))
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    inputs["tier"]["monitoring"]["alerts"] = {**inputs["tier"]["monitoring"]["alerts"],
                                              "keyvault_secrets_near_expiry": None}
    assert not [a for a in by_type(deployment_model.build_deployment(inputs), "Microsoft.Insights/scheduledQueryRules")
                if a["name"].endswith("-kv-secret-near-expiry")]


# --- service unavailability: availability test and alert ---------------------------------------------------------


def with_url(url: Any, deployment: str = "westeu-test-1") -> dict[str, Any]:
    inputs = deployment_inputs(REPO / "inventories" / deployment)
    inputs["availability_url"] = url
    return inputs


def test_no_health_url_no_availability_test_which_is_every_inventorys_default() -> None:
    for model in MODELS.values():
        assert by_type(model, "Microsoft.Insights/webtests") == []
        assert not [a for a in by_type(model, "Microsoft.Insights/metricAlerts") if a["name"].endswith("-availability")]


def test_a_health_url_plans_a_standard_test_linked_to_app_insights_and_an_alert_on_its_availability() -> None:
    model = deployment_model.build_deployment(with_url("https://api.example.com/healthz", "westeu-prod-1"))
    appi = model["ids"]["application_insights"]
    [test] = by_type(model, "Microsoft.Insights/webtests")
    assert test["kind"] == "standard" and test["properties"]["Kind"] == "standard"
    assert test["tags"][f"hidden-link:{appi}"] == "Resource"
    assert test["tags"]["deployment"] == "westeu-prod-1", "the tag policy's tags stay"
    props = test["properties"]
    assert props["SyntheticMonitorId"] == test["name"] and props["Request"]["RequestUrl"] == "https://api.example.com/healthz"
    assert len(props["Locations"]) >= 5 and props["Frequency"] == 300
    assert props["ValidationRules"] == {"ExpectedHttpStatusCode": 200, "SSLCheck": True,
                                        "SSLCertRemainingLifetimeCheck": 7}
    assert appi in test["depends_on"]
    [alert] = [a for a in by_type(model, "Microsoft.Insights/metricAlerts") if a["name"].endswith("-availability")]
    [criterion] = alert["properties"]["criteria"]["allOf"]
    assert alert["properties"]["scopes"] == [appi]
    assert (criterion["metricName"], criterion["operator"]) == ("availabilityResults/availabilityPercentage", "LessThan")
    assert criterion["threshold"] == PROD["tier"]["monitoring"]["alerts"]["appinsights_availability_percent"]
    assert criterion["dimensions"] == [{"name": "availabilityResult/name", "operator": "Include",
                                        "values": [test["name"]]}]
    assert test["id"] in alert["depends_on"] and model["ids"]["action_group"] in alert["depends_on"]
    plain = deployment_model.build_deployment(with_url("http://10.0.0.4/healthz"))
    [http_test] = by_type(plain, "Microsoft.Insights/webtests")
    assert http_test["properties"]["ValidationRules"] == {"ExpectedHttpStatusCode": 200, "SSLCheck": False}


def test_availability_alert_can_be_left_out_per_tier_and_a_bad_url_is_refused() -> None:
    inputs = with_url("https://api.example.com/healthz")
    inputs["tier"]["monitoring"]["alerts"] = {**inputs["tier"]["monitoring"]["alerts"],
                                              "appinsights_availability_percent": None}
    model = deployment_model.build_deployment(inputs)
    assert len(by_type(model, "Microsoft.Insights/webtests")) == 1
    assert not [a for a in by_type(model, "Microsoft.Insights/metricAlerts") if a["name"].endswith("-availability")]
    for bad in ("api.example.com/healthz", "ftp://x/y", ["https://x"]):
        problems = deployment_model.validate_inputs(with_url(bad))
        assert any("monitoring_availability_url:" in p for p in problems), (bad, problems)


# --- cost anomaly alert on the subscription (seed ECS-46) -----------------------------------------------------------


def test_cost_anomaly_alert_watches_the_subscriptions_anomaly_view_and_mails_the_alert_contacts() -> None:
    for model in MODELS.values():
        [alert] = by_type(model, "Microsoft.CostManagement/scheduledActions")
        subscription = f"/subscriptions/{model['subscription_id']}"
        assert alert["id"] == f"{subscription}/providers/Microsoft.CostManagement/scheduledActions/{alert['name']}"
        assert alert["kind"] == "InsightAlert" and "tags" not in alert and alert["location"] is None
        props = alert["properties"]
        assert props["viewId"] == f"{subscription}/providers/Microsoft.CostManagement/views/ms:DailyAnomalyByResourceGroup"
        assert props["notification"]["to"] == model["alert_emails"]
        assert len(props["notification"]["subject"]) <= 70 and props["status"] == "Enabled"
        assert props["schedule"] == {"frequency": "Daily", "startDate": "<runtime:month-start>",
                                     "endDate": "<runtime:month-start-plus-years:10>"}
    names = [by_type(m, "Microsoft.CostManagement/scheduledActions")[0]["name"] for m in MODELS.values()]
    assert len(set(names)) == len(names), "each deployment has its own, so destroy removes only its own"


def test_cost_anomaly_alert_can_go_to_other_recipients_or_be_turned_off() -> None:
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    inputs["cost_anomaly_recipients"] = ["finops@example.com"]
    assert deployment_model.validate_inputs(inputs) == []
    [alert] = by_type(deployment_model.build_deployment(inputs), "Microsoft.CostManagement/scheduledActions")
    assert alert["properties"]["notification"]["to"] == ["finops@example.com"]
    inputs["cost_anomaly_alert"] = False
    assert by_type(deployment_model.build_deployment(inputs), "Microsoft.CostManagement/scheduledActions") == []
    for variable, value in (("cost_anomaly_recipients", ["finops"]),
                            ("cost_anomaly_recipients", [f"u{i}@example.com" for i in range(21)]),
                            ("cost_anomaly_alert", "no")):
        bad = deployment_inputs(REPO / "inventories" / "westeu-test-1")
        bad[variable] = value
        problems = deployment_model.validate_inputs(bad)
        assert any(f"monitoring_{variable}:" in p for p in problems), (variable, problems)


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_container_apps_environment_in_its_delegated_subnet(deployment: str) -> None:
    model = MODELS[deployment]
    [environment] = by_type(model, "Microsoft.App/managedEnvironments")
    subnet_id = model["subnets"]["containerapps"]["id"]
    assert environment["name"] == f"cae-cf-{deployment}" and environment["role"] == "apps"
    assert environment["id"] == model["apps"]["environment_id"] == model["ids"]["container_apps_environment"]
    props = environment["properties"]
    assert props["vnetConfiguration"] == {"infrastructureSubnetId": subnet_id, "internal": True}
    assert props["workloadProfiles"] == [{"name": "Consumption", "workloadProfileType": "Consumption"}]
    assert props["zoneRedundant"] is (model["env"] == "prod")
    # Logs through Azure Monitor and a diagnostic setting: no workspace key anywhere in the body.
    assert props["appLogsConfiguration"] == {"destination": "azure-monitor"}
    assert f"{environment['id']}/providers/Microsoft.Insights/diagnosticSettings/diag-cf-{deployment}" in {
        r["id"] for r in by_type(model, "Microsoft.Insights/diagnosticSettings")}
    assert subnet_id in environment["depends_on"]
    [subnet] = [r for r in by_type(model, "Microsoft.Network/virtualNetworks/subnets") if r["id"] == subnet_id]
    assert subnet["properties"]["delegations"] == [
        {"name": "Microsoft.App.environments", "properties": {"serviceName": "Microsoft.App/environments"}}]
    rules = {r["name"]: r["properties"] for r in model["subnets"]["containerapps"]["nsg_rules"]}
    assert "Internet" not in {r.get("sourceAddressPrefix") for r in rules.values()}
    assert rules["allow-http-https-from-vnet"]["destinationPortRanges"] == ["80", "443"]
    assert rules["allow-containerapps-subnet-inbound"]["sourceAddressPrefix"] == model["subnets"]["containerapps"][
        "address_prefix"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_key_vault_endpoint_leaves_the_delegated_subnet_before_it_is_delegated(deployment: str) -> None:
    model = MODELS[deployment]
    endpoints = {r["name"]: r for r in by_type(model, "Microsoft.Network/privateEndpoints")}
    new, old = endpoints[f"pe-cf-{deployment}-kv-storage"], endpoints[f"pe-cf-{deployment}-kv"]
    assert new["properties"]["subnet"]["id"] == model["subnets"]["storage"]["id"]
    assert model["names"]["key_vault_private_endpoint"] == new["name"]
    assert old.get("state") == "absent" and old["role"] == "keyvault"
    # No private endpoint is planned in the delegated subnet, and the subnet waits for the old one's removal.
    assert [e for e in endpoints.values() if e.get("state") != "absent"
            and e["properties"]["subnet"]["id"] == model["subnets"]["containerapps"]["id"]] == []
    [subnet] = [r for r in by_type(model, "Microsoft.Network/virtualNetworks/subnets")
                if r["id"] == model["subnets"]["containerapps"]["id"]]
    assert old["id"] in subnet["depends_on"]


def test_container_apps_private_dns_zone_is_named_after_the_environments_default_domain() -> None:
    env_id = TEST["apps"]["environment_id"]
    zone_name = f"<runtime:public-property:{env_id}:properties.defaultDomain>"
    apps = [r for r in TEST["resources"] if r["role"] == "apps"]
    assert [(r["type"], r["name"]) for r in apps] == [
        ("Microsoft.App/managedEnvironments", "cae-cf-westeu-test-1"),
        ("Microsoft.Network/privateDnsZones", zone_name),
        ("Microsoft.Network/privateDnsZones/virtualNetworkLinks", "link-cf-westeu-test-1"),
        ("Microsoft.Network/privateDnsZones/A", "*"),
        ("Microsoft.Network/privateDnsZones/A", "@"),
    ]
    for record in apps[3:]:
        assert record["properties"]["aRecords"] == [
            {"ipv4Address": f"<runtime:public-property:{env_id}:properties.staticIp>"}]
    assert apps[2]["properties"]["virtualNetwork"]["id"] == TEST["ids"]["virtual_network"]
    # Nothing else waits for these entries: the engine reconciles them after the rest of the plan.
    ids = {r["id"] for r in apps[1:]}
    assert not [r["id"] for r in TEST["resources"] if r["role"] != "apps" and ids & set(r["depends_on"])]


def test_a_tier_whose_zone_redundancy_is_not_a_boolean_is_refused() -> None:
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    inputs["tier"] = {**inputs["tier"], "apps": {"zone_redundant": "yes"}}
    assert any("cf_tier.apps.zone_redundant" in p for p in deployment_model.validate_inputs(inputs))


# --- edge: Application Gateway WAF_v2 with TLS from Key Vault (issue 11) ---------------------------------------

def _edge(model: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    [gateway] = by_type(model, "Microsoft.Network/applicationGateways")
    [waf] = by_type(model, "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies")
    [pip] = by_type(model, "Microsoft.Network/publicIPAddresses")
    [cert] = by_type(model, "Microsoft.KeyVault/vaults/certificates")
    return gateway, waf, pip, cert


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_gateway_subnet_is_its_own_and_admits_what_application_gateway_v2_needs(deployment: str) -> None:
    model = MODELS[deployment]
    subnet = model["subnets"]["appgw"]
    vnet = ipaddress.ip_network(model["address_space"])
    assert subnet["address_prefix"] == str(list(vnet.subnets(new_prefix=24))[6])
    gateway, *_ = _edge(model)
    [config] = gateway["properties"]["gatewayIPConfigurations"]
    assert config["properties"]["subnet"]["id"] == subnet["id"]
    # Nothing else is planned into the gateway's subnet.
    others = [r["id"] for r in model["resources"] if subnet["id"] in json.dumps(r["properties"])
              and r["type"] not in ("Microsoft.Network/applicationGateways", "Microsoft.KeyVault/vaults",
                                    "Microsoft.Network/virtualNetworks/subnets")]
    assert others == []
    rules = {r["name"]: r["properties"] for r in subnet["nsg_rules"]}
    manager = rules["allow-gateway-manager-inbound"]
    assert (manager["sourceAddressPrefix"], manager["destinationPortRange"], manager["access"]) == (
        "GatewayManager", "65200-65535", "Allow")
    assert manager["priority"] < rules["deny-all-inbound"]["priority"]
    assert {(r["sourceAddressPrefix"], r["destinationPortRange"]) for r in rules.values() if r["access"] == "Allow"} \
        >= {("Internet", "443"), ("Internet", "80"), ("AzureLoadBalancer", "*")}
    # The services' subnet lets the gateway's backend traffic in (from the virtual network, which holds it).
    [backend] = [r for r in model["subnets"]["containerapps"]["nsg_rules"] if r["name"] == "allow-http-https-from-vnet"]
    assert backend["properties"]["sourceAddressPrefix"] == "VirtualNetwork"
    assert "443" in backend["properties"]["destinationPortRanges"]
    # Its backend is the Container Apps environment's static IP, once the environment exists.
    env_id = model["apps"]["environment_id"]
    [pool] = gateway["properties"]["backendAddressPools"]
    assert pool["properties"]["backendAddresses"] == [
        {"ipAddress": f"<runtime:public-property:{env_id}:properties.staticIp>"}]
    assert env_id in gateway["depends_on"]


def test_gateway_follows_the_tier_waf_blocks_in_production_and_detects_elsewhere() -> None:
    test_gw, test_waf, test_pip, _ = _edge(TEST)
    prod_gw, prod_waf, prod_pip, _ = _edge(PROD)
    for gateway, waf, pip in ((test_gw, test_waf, test_pip), (prod_gw, prod_waf, prod_pip)):
        assert gateway["properties"]["sku"] == {"name": "WAF_v2", "tier": "WAF_v2"}
        assert gateway["properties"]["firewallPolicy"] == {"id": waf["id"]}
        assert waf["id"] in gateway["depends_on"] and pip["id"] in gateway["depends_on"]
        assert pip["sku"]["name"] == "Standard"
        assert pip["properties"]["publicIPAllocationMethod"] == "Static"
        assert waf["properties"]["managedRules"]["managedRuleSets"] == [{"ruleSetType": "OWASP", "ruleSetVersion": "3.2"}]
        [rate] = waf["properties"]["customRules"]
        assert rate["ruleType"] == "RateLimitRule" and rate["action"] == "Block"
    assert test_waf["properties"]["policySettings"]["mode"] == "Detection"
    assert prod_waf["properties"]["policySettings"]["mode"] == "Prevention"
    assert test_waf["properties"]["customRules"][0]["rateLimitThreshold"] == TEST["tier"]["edge"]["rate_limit_per_minute"]
    assert prod_waf["properties"]["customRules"][0]["rateLimitThreshold"] == PROD["tier"]["edge"]["rate_limit_per_minute"]
    assert test_gw["properties"]["autoscaleConfiguration"] == {"minCapacity": 0, "maxCapacity": 2}
    assert prod_gw["properties"]["autoscaleConfiguration"] == {"minCapacity": 2, "maxCapacity": 10}
    assert prod_gw["zones"] == prod_pip["zones"] == ["1", "2", "3"]
    assert "zones" not in test_gw and "zones" not in test_pip


@pytest.mark.parametrize("deployment", DEPLOYMENTS)
def test_https_listener_takes_its_certificate_from_key_vault_and_http_redirects(deployment: str) -> None:
    model = MODELS[deployment]
    gateway, _, _, cert = _edge(model)
    props = gateway["properties"]
    host = model["edge"]["host_name"]
    assert host == f"{deployment}.complianceflow.example"
    [ssl] = props["sslCertificates"]
    kv_id = model["ids"]["key_vault"]
    # Versionless, on the vault's own URI: renewals reach the gateway without a run.
    assert ssl["properties"]["keyVaultSecretId"] == (
        f"<runtime:public-property:{kv_id}:properties.vaultUri>secrets/{cert['name']}")
    [identity_id] = gateway["identity"]["userAssignedIdentities"]
    assert gateway["identity"]["type"] == "UserAssigned"
    [grant] = [r for r in by_type(model, "Microsoft.Authorization/roleAssignments")
               if r["properties"]["principalId"] == f"<runtime:public-property:{identity_id}:properties.principalId>"]
    assert grant["id"].startswith(f"{kv_id}/secrets/{cert['name']}/providers/")
    assert grant["properties"]["roleDefinitionId"].endswith(deployment_model.KEY_VAULT_SECRETS_USER)
    assert {grant["id"], cert["id"], identity_id} <= set(gateway["depends_on"])
    listeners = {item["name"]: item["properties"] for item in props["httpListeners"]}
    assert listeners["https"]["protocol"] == "Https" and listeners["https"]["hostName"] == host
    assert listeners["https"]["sslCertificate"]["id"] == f"{gateway['id']}/sslCertificates/{ssl['name']}"
    rules = {item["name"]: item["properties"] for item in props["requestRoutingRules"]}
    redirect = {item["name"]: item["properties"] for item in props["redirectConfigurations"]}
    [to_https] = [r for r in rules.values() if r["httpListener"]["id"].endswith("/httpListeners/http")]
    target = redirect[to_https["redirectConfiguration"]["id"].rsplit("/", 1)[1]]
    assert target["redirectType"] == "Permanent" and target["targetListener"]["id"].endswith("/httpListeners/https")
    # Every reference inside the gateway names an item the gateway has.
    names = {f"{gateway['id']}/{collection}/{item['name']}" for collection, items in props.items()
             if isinstance(items, list) for item in items if isinstance(item, dict) and "name" in item}
    refs = re.findall(r'"id": "(' + re.escape(gateway["id"]) + r'/[^"]+)"', json.dumps(props))
    assert refs and set(refs) <= names
    [probe] = props["probes"]
    assert (probe["properties"]["host"], probe["properties"]["path"]) == (host, model["tier"]["edge"]["probe_path"])


def test_certificate_is_self_signed_outside_production_and_imported_in_production() -> None:
    *_, test_cert = _edge(TEST)
    *_, prod_cert = _edge(PROD)
    policy = test_cert["properties"]["policy"]
    assert policy["issuer"] == {"name": "Self"}
    assert policy["x509_props"]["subject"] == f"CN={TEST['edge']['host_name']}"
    assert "value" not in test_cert["properties"]
    assert prod_cert["properties"]["value"] == "<runtime:gateway-certificate-pfx>"
    assert "issuer" not in prod_cert["properties"]["policy"]
    # The runner may create and import certificates in its vault.
    officer = [r for r in by_type(TEST, "Microsoft.Authorization/roleAssignments")
               if r["properties"]["roleDefinitionId"].endswith(deployment_model.KEY_VAULT_CERTIFICATES_OFFICER)]
    assert [r["properties"]["principalId"] for r in officer] == ["<runtime:principal-id>"]


def test_gateway_is_diagnosed_and_alerts_on_unhealthy_backends_with_a_runbook() -> None:
    gateway, *_ = _edge(TEST)
    [setting] = [r for r in by_type(TEST, "Microsoft.Insights/diagnosticSettings") if r["id"].startswith(gateway["id"] + "/")]
    assert setting["properties"]["logs"] == [{"categoryGroup": "allLogs", "enabled": True}]
    [alert] = [r for r in by_type(TEST, "Microsoft.Insights/metricAlerts") if r["properties"]["scopes"] == [gateway["id"]]]
    [criterion] = alert["properties"]["criteria"]["allOf"]
    assert (criterion["metricName"], criterion["operator"], criterion["threshold"]) == ("UnhealthyHostCount", "GreaterThan", 0)
    runbook = re.search(r"runbook: (\S+\.md)", alert["properties"]["description"])
    assert runbook and (REPO / "docs" / "runbooks" / runbook.group(1)).exists()


@pytest.mark.parametrize(("setting", "value", "variable"), [
    ("min_capacity", -1, "cf_tier.edge.min_capacity"),
    ("max_capacity", 126, "cf_tier.edge.max_capacity"),
    ("max_capacity", 1, "cf_tier.edge.max_capacity"),
    ("waf_mode", "Block", "cf_tier.edge.waf_mode"),
    ("rate_limit_per_minute", 0, "cf_tier.edge.rate_limit_per_minute"),
    ("probe_path", "healthz", "cf_tier.edge.probe_path"),
    ("certificate", "letsencrypt", "cf_tier.edge.certificate"),
])
def test_bad_edge_settings_are_refused_naming_the_variable(setting: str, value: Any, variable: str) -> None:
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    inputs["tier"]["edge"] = {**inputs["tier"]["edge"], setting: value}
    problems = deployment_model.validate_inputs(inputs)
    assert any(f"{variable}:" in p for p in problems), problems


def test_autoscale_maximum_below_minimum_is_refused() -> None:
    inputs = deployment_inputs(REPO / "inventories" / "westeu-stg-1")
    inputs["tier"]["edge"] = {**inputs["tier"]["edge"], "min_capacity": 5, "max_capacity": 4}
    assert any("cf_tier.edge.max_capacity:" in p and "below min_capacity 5" in p
               for p in deployment_model.validate_inputs(inputs))


def test_production_without_the_operators_certificate_is_refused_where_it_is_imported() -> None:
    inputs = deployment_inputs(REPO / "inventories" / "westeu-prod-1")
    # plan.yml and runs without the edge role do not ask for it.
    assert deployment_model.validate_inputs({**inputs, "gateway_certificate_given": None}) == []
    problems = deployment_model.validate_inputs({**inputs, "gateway_certificate_given": False})
    assert any("keyvault_gateway_certificate_pfx:" in p for p in problems), problems
    assert deployment_model.validate_inputs({**inputs, "gateway_certificate_given": True}) == []
    # A self-signed tier needs nothing from the operators.
    test_inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    assert deployment_model.validate_inputs({**test_inputs, "gateway_certificate_given": False}) == []


def test_host_name_must_be_a_dns_name() -> None:
    inputs = deployment_inputs(REPO / "inventories" / "westeu-test-1")
    problems = deployment_model.validate_inputs({**inputs, "public_host_name": "Not A Host"})
    assert any("edge_host_name:" in p for p in problems), problems
    custom = deployment_model.build_deployment({**inputs, "public_host_name": "api.test.example.org"})
    [cert] = by_type(custom, "Microsoft.KeyVault/vaults/certificates")
    assert cert["properties"]["policy"]["x509_props"]["subject"] == "CN=api.test.example.org"

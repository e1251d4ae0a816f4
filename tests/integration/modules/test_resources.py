"""The batch module (complianceflow.azure_infra.resources) against the emulator: one task reconciles a list of
planned resources, in dependency waves, with check mode, --diff, exact tags, per-resource results, isolated
failures with Azure's codes, fast-failing long-running operations, and Key Vault secrets that never leave it."""

from __future__ import annotations

from typing import Any

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.key_vault_data import SecretsClient
from tests.integration.modules.runner import ModuleRunner
from tests.integration.request_log import write_requests as arm_writes

NET = "2024-05-01"


def network(run: ModuleRunner, rg: str, tags: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """A resource group, an NSG, a virtual network and two subnets, listed children first on purpose."""
    rg_id = run.rg_id(rg)
    vnet = f"{rg_id}/providers/Microsoft.Network/virtualNetworks/vnet-batch"
    nsg = f"{rg_id}/providers/Microsoft.Network/networkSecurityGroups/nsg-batch"
    tags = tags if tags is not None else {"app": "batch"}
    return [
        {"id": f"{vnet}/subnets/app", "type": "Microsoft.Network/virtualNetworks/subnets",
         "properties": {"addressPrefix": "10.9.1.0/24", "networkSecurityGroup": {"id": nsg}}, "depends_on": [nsg]},
        {"id": f"{vnet}/subnets/data", "type": "Microsoft.Network/virtualNetworks/subnets",
         "properties": {"addressPrefix": "10.9.2.0/24"}},
        {"id": vnet, "type": "Microsoft.Network/virtualNetworks", "location": "westeurope", "tags": tags,
         "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}, "depends_on": [rg_id]},
        {"id": nsg, "type": "Microsoft.Network/networkSecurityGroups", "location": "westeurope", "tags": tags,
         "properties": {"securityRules": [{"name": "allow-https", "properties": {
             "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
             "sourcePortRange": "*", "destinationPortRange": "443", "sourceAddressPrefix": "10.9.1.0/24",
             "destinationAddressPrefix": "*"}}]}, "depends_on": [rg_id]},
        {"id": rg_id, "type": "Microsoft.Resources/resourceGroups", "location": "westeurope", "tags": tags,
         "properties": {}},
    ]


def actions(result: dict[str, Any]) -> dict[str, str]:
    return {r["id"].rsplit("/", 1)[-1]: r["action"] for r in result["results"]}


def test_check_then_build_in_waves_then_converged_with_no_write(run: ModuleRunner, fresh: Any) -> None:
    planned = network(run, "rg-batch")
    predicted = run("resources", {"resources": planned}, check=True)
    assert predicted["changed"] is True, predicted
    assert set(actions(predicted).values()) == {"create"}
    assert arm_writes(fresh.requests()) == [] and fresh.resources() == []

    built = run("resources", {"resources": planned})
    assert built.get("failed") is not True, built
    assert built["counts"]["create"] == 5
    # Parents and declared dependencies were written before the resources that need them.
    order = [e["path"].rsplit("/", 1)[-1] for e in arm_writes(fresh.requests()) if e["method"] == "PUT"]
    assert order.index("rg-batch") < order.index("vnet-batch") < order.index("app")
    assert order.index("nsg-batch") < order.index("app")

    mark = len(fresh.requests())
    again = run("resources", {"resources": planned}, diff=True)
    assert again["changed"] is False, again
    assert set(actions(again).values()) == {"unchanged"}
    assert arm_writes(fresh.requests()[mark:]) == []


def test_a_tag_added_by_hand_is_removed_unless_purge_tags_is_off(run: ModuleRunner, fresh: Any,
                                                                  arm_client: Any) -> None:
    planned = network(run, "rg-tags")
    run("resources", {"resources": planned})
    vnet_id = planned[2]["id"]
    vnet = arm_client.get(vnet_id, NET)
    vnet["tags"]["addedBy"] = "someone"
    arm_client.write("PUT", vnet_id, NET, {k: v for k, v in vnet.items() if k not in ("etag",)}, 60)

    kept = run("resources", {"resources": planned, "purge_tags": False}, check=True)
    assert kept["changed"] is False, kept

    shown = run("resources", {"resources": planned}, check=True, diff=True)
    assert actions(shown)["vnet-batch"] == "update"
    assert [r["differences"] for r in shown["results"] if r["id"] == vnet_id] == [["tags.addedBy"]]
    assert shown["diff"]["before"][vnet_id] == {"tags": {"addedBy": "someone"}}
    assert arm_client.get(vnet_id, NET)["tags"].get("addedBy") == "someone"

    run("resources", {"resources": planned})
    assert "addedBy" not in arm_client.get(vnet_id, NET)["tags"]


def test_one_failure_does_not_hide_the_others_and_names_azures_code(run: ModuleRunner, fresh: Any) -> None:
    planned = network(run, "rg-fail")
    run("resources", {"resources": [p for p in planned if p["type"] == "Microsoft.Resources/resourceGroups"]})
    # An address space that does not contain its subnet's prefix: Azure refuses the subnet, not the rest.
    planned[1]["properties"]["addressPrefix"] = "10.99.2.0/24"
    failed = run("resources", {"resources": planned})
    assert failed.get("failed") is True
    assert actions(failed)["data"] == "failed"
    assert actions(failed)["app"] in ("create", "unchanged")
    assert actions(failed)["nsg-batch"] == "create"
    data = next(r for r in failed["results"] if r["id"].endswith("/data"))
    assert data["error"]["code"] and data["error"]["code"] in failed["msg"]
    assert data["id"] in failed["msg"]


def test_bad_plans_are_refused_before_any_request(run: ModuleRunner, fresh: Any) -> None:
    planned = network(run, "rg-bad")
    planned.append({"id": f"{run.rg_id('rg-bad')}/providers/Microsoft.Unknown/things/x", "type": "Microsoft.Unknown/things"})
    planned[0]["depends_on"] = [planned[1]["id"]]
    planned[1]["depends_on"] = [planned[0]["id"]]
    mark = len(fresh.requests())
    refused = run("resources", {"resources": planned})
    assert refused.get("failed") is True
    assert "Microsoft.Unknown/things" in refused["msg"]
    assert [e for e in fresh.requests()[mark:] if not e["path"].startswith("/_emulator")
            and "/oauth2/" not in e["path"] and "/metadata/" not in e["path"]] == []


def test_missing_dependencies_are_skipped_with_a_message_when_asked(run: ModuleRunner, fresh: Any) -> None:
    rg_id = run.rg_id("rg-skip")
    planned = network(run, "rg-skip")
    run("resources", {"resources": [p for p in planned if p["id"] == rg_id]})
    alert = {"id": f"{rg_id}/providers/Microsoft.Insights/actionGroups/ag-skip", "type": "Microsoft.Insights/actionGroups",
             "location": "global", "properties": {"groupShortName": "skip", "enabled": True, "emailReceivers": []},
             "depends_on": [planned[3]["id"]]}
    skipped = run("resources", {"resources": [alert], "missing_dependencies": "skip"})
    assert skipped["changed"] is False
    assert actions(skipped)["ag-skip"] == "skipped"
    assert "nsg-batch" in skipped["results"][0]["message"]
    failed = run("resources", {"resources": [alert]}, check=True)
    assert actions(failed)["ag-skip"] == "create"


def test_a_failed_long_running_operation_ends_at_once_with_azures_code(run: ModuleRunner, fresh: Any) -> None:
    planned = network(run, "rg-lro")
    run("resources", {"resources": [planned[-1]]})
    fresh.set_faults("put:Microsoft.Network/networkSecurityGroups:lro-failed:always")
    mark = len(fresh.requests())
    failed = run("resources", {"resources": [planned[3]]})
    assert failed.get("failed") is True
    assert "InternalServerError" in failed["msg"] and "lro-failed" in failed["msg"], failed["msg"]
    puts = [e for e in fresh.requests()[mark:] if e["method"] == "PUT"]
    polls = [e for e in fresh.requests()[mark:] if (e["method"] == "GET" and "/operation" in e["path"].lower())
             or "asyncoperations" in e["path"].lower()]
    # One write, one re-write of the operation Azure failed, and a few polls: not a retry loop on the failure.
    assert len(puts) == 2, puts
    assert len(polls) <= 4, polls


def test_secrets_are_generated_once_rotated_on_request_and_never_returned(run: ModuleRunner, fresh: Any,
                                                                           arm_client: Any) -> None:
    rg_id = run.rg_id("rg-secrets")
    vault_id = f"{rg_id}/providers/Microsoft.KeyVault/vaults/kv-batch-secrets"
    tenant = str(fresh.env["AZURE_TENANT"])
    secret_id = f"{vault_id}/secrets/app-password"
    planned = [
        {"id": rg_id, "type": "Microsoft.Resources/resourceGroups", "location": "westeurope", "properties": {}},
        {"id": vault_id, "type": "Microsoft.KeyVault/vaults", "location": "westeurope", "depends_on": [rg_id],
         "properties": {"tenantId": "<runtime:tenant-id>", "sku": {"family": "A", "name": "standard"},
                        "enableRbacAuthorization": True, "accessPolicies": []}},
        {"id": f"{vault_id}/providers/Microsoft.Authorization/roleAssignments/4a9c0e0a-8d0b-4c35-9d6f-2a3f3c1c0b11",
         "type": "Microsoft.Authorization/roleAssignments", "depends_on": [vault_id],
         "properties": {"roleDefinitionId": f"/subscriptions/{run.subscription}/providers/Microsoft.Authorization/"
                                            "roleDefinitions/b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
                        "principalId": "<runtime:principal-id>", "principalType": "<runtime:principal-type>"}},
        {"id": secret_id, "type": "Microsoft.KeyVault/vaults/secrets", "tags": {"app": "batch"},
         "depends_on": [vault_id, f"{vault_id}/providers/Microsoft.Authorization/roleAssignments/"
                                  "4a9c0e0a-8d0b-4c35-9d6f-2a3f3c1c0b11"],
         "properties": {"contentType": "password", "value": "<runtime:generate:password>"}},
    ]
    built = run("resources", {"resources": planned}, diff=True)
    assert built.get("failed") is not True, built
    vault = arm_client.get(vault_id, "2023-07-01")
    assert vault["properties"]["tenantId"] == tenant
    secrets = SecretsClient(vault["properties"]["vaultUri"], arm_client.credential, verify=arm_client.verify)
    first = secrets.get("app-password")["value"]
    assert len(first) == 40 and secrets.get("app-password")["contentType"] == "password"

    again = run("resources", {"resources": planned})
    assert actions(again)["app-password"] == "unchanged" and again["changed"] is False
    assert secrets.get("app-password")["value"] == first

    rotated = run("resources", {"resources": planned, "runtime": {"rotate": ["app-password"]}}, diff=True)
    assert actions(rotated)["app-password"] == "update"
    assert rotated["diff"]["after"][secret_id]["properties"]["value"] == "(new value)"
    second = secrets.get("app-password")["value"]
    assert second != first
    text = repr(built) + repr(again) + repr(rotated)
    assert first not in text and second not in text


def test_purge_identities_spares_the_identities_named_in_keep_identities(run: ModuleRunner, fresh: Any) -> None:
    """The identity role run alone purges its deployment's unplanned identities, never the gateway's (edge role)."""
    rg_id = run.rg_id("rg-keep")
    tags = {"deployment": "westeu-test-1"}

    def identity(name: str) -> dict[str, Any]:
        return {"id": f"{rg_id}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
                "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "location": "westeurope", "tags": tags,
                "properties": {}, "depends_on": [rg_id]}

    group = {"id": rg_id, "type": "Microsoft.Resources/resourceGroups", "location": "westeurope", "tags": tags,
             "properties": {}}
    built = run("resources", {"resources": [group, identity("id-user"), identity("id-appgw"), identity("id-gone")]})
    assert built["counts"]["create"] == 4, built
    purged = run("resources", {"resources": [group, identity("id-user")], "purge_identities": True,
                               "keep_identities": [identity("id-appgw")["id"]]})
    assert actions(purged) == {"rg-keep": "unchanged", "id-user": "unchanged", "id-gone": "delete"}, purged
    left = {r["name"] for r in fresh.resources() if r["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"}
    assert left == {"id-user", "id-appgw"}

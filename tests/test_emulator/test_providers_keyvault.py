"""Key Vault management plane through azure-mgmt-keyvault: vault CRUD, defaults, name rules, global names,
soft delete (deletedVaults, recover, purge, purge protection) and Microsoft's examples."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.test_emulator.examples import assert_shape, load_example

pytestmark = pytest.mark.emulator
API = "2026-02-01"


@pytest.fixture(scope="module")
def kv(emulator: Any) -> Any:
    from azure.mgmt.keyvault import KeyVaultManagementClient

    return emulator.mgmt_client(KeyVaultManagementClient)


def _vault(emulator: Any, **props: Any) -> dict[str, Any]:
    return {"location": "westeurope", "properties": {"tenantId": emulator.env["AZURE_TENANT"],
                                                      "sku": {"family": "A", "name": "standard"}, **props}}


def test_create_fills_azure_defaults_and_points_vault_uri_at_emulator(emulator: Any, kv: Any, rg: str,
                                                                      unique: Callable[[str], str]) -> None:
    name = unique("kv-def-")
    vault = kv.vaults.begin_create_or_update(rg, name, _vault(emulator)).result()
    props = vault.properties
    assert props.provisioning_state == "Succeeded"
    assert props.vault_uri.startswith("https://127.0.0.1:") and props.vault_uri.endswith("/"), \
        "each vault is served at an origin of its own"
    assert props.enable_soft_delete is True
    assert props.soft_delete_retention_in_days == 90
    assert props.enable_rbac_authorization is True, "api-version 2026-02-01+ defaults new vaults to RBAC"
    assert props.public_network_access == "Enabled"
    assert props.access_policies == []
    again = kv.vaults.begin_create_or_update(rg, name, _vault(emulator)).result()
    assert again.properties.vault_uri == props.vault_uri, "an idempotent re-run sees the same vault"
    assert [v.name for v in kv.vaults.list_by_resource_group(rg)] == [name]


def test_older_api_version_defaults_to_access_policies(emulator: Any, rg: str, unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    path = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{unique('kv-old-')}"
    status, body, _ = arm.call("PUT", f"{path}?api-version=2023-07-01", _vault(emulator))
    assert status == 201
    assert body["properties"]["enableRbacAuthorization"] is False


@pytest.mark.parametrize("name", ["1vault", "kv--double", "kv-ends-", "ab", "x" * 25, "kv_underscore"])
def test_invalid_names_are_refused_with_vault_name_not_valid(emulator: Any, kv: Any, rg: str, name: str) -> None:
    with pytest.raises(HttpResponseError) as excinfo:
        kv.vaults.begin_create_or_update(rg, name, _vault(emulator)).result()
    assert excinfo.value.status_code == 400
    assert excinfo.value.error.code == "VaultNameNotValid"


def test_vault_names_are_global_across_subscriptions(emulator: Any, kv: Any, rg: str,
                                                     unique: Callable[[str], str]) -> None:
    from azure.mgmt.keyvault import KeyVaultManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    name = unique("kv-glob-")
    kv.vaults.begin_create_or_update(rg, name, _vault(emulator)).result()
    cred = emulator.second_credential()
    sub2 = emulator.env["AZURE_EMULATOR_SUBSCRIPTION_ID_2"]
    emulator.mgmt_client(ResourceManagementClient, sub2, cred).resource_groups.create_or_update(
        "rg-kv-other", {"location": "westeurope"})
    other = emulator.mgmt_client(KeyVaultManagementClient, sub2, cred)
    body = _vault(emulator)
    body["properties"]["tenantId"] = emulator.env["AZURE_EMULATOR_TENANT_2"]
    with pytest.raises(HttpResponseError) as excinfo:
        other.vaults.begin_create_or_update("rg-kv-other", name, body).result()
    assert excinfo.value.status_code == 409
    assert excinfo.value.error.code == "VaultAlreadyExists"
    check = kv.vaults.check_name_availability({"name": name, "type": "Microsoft.KeyVault/vaults"})
    assert check.name_available is False and check.reason == "AlreadyExists"


def test_soft_delete_recover_and_purge(emulator: Any, kv: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("kv-soft-")
    created = kv.vaults.begin_create_or_update(rg, name, _vault(emulator, softDeleteRetentionInDays=7)).result()
    kv.vaults.delete(rg, name)
    deleted = kv.vaults.get_deleted(name, "westeurope")
    assert deleted.properties.vault_id == created.id
    assert (deleted.properties.scheduled_purge_date - deleted.properties.deletion_date).days == 7
    assert name in [d.name for d in kv.vaults.list_deleted()]
    with pytest.raises(HttpResponseError) as excinfo:
        kv.vaults.begin_create_or_update(rg, name, _vault(emulator)).result()
    assert (excinfo.value.status_code, excinfo.value.error.code) == (409, "ConflictError"), \
        "a soft-deleted name stays taken until purged"

    recovered = kv.vaults.begin_create_or_update(rg, name, _vault(emulator, createMode="recover")).result()
    assert recovered.properties.soft_delete_retention_in_days == 7, "recover restores the vault as it was"
    assert name not in [d.name for d in kv.vaults.list_deleted()]

    kv.vaults.delete(rg, name)
    kv.vaults.begin_purge_deleted(name, "westeurope").result()
    assert name not in [d.name for d in kv.vaults.list_deleted()]
    fresh = kv.vaults.begin_create_or_update(rg, name, _vault(emulator)).result()
    assert fresh.properties.soft_delete_retention_in_days == 90, "after purge the name is free for a new vault"


def test_recover_without_deleted_vault_is_refused(emulator: Any, kv: Any, rg: str,
                                                  unique: Callable[[str], str]) -> None:
    with pytest.raises(HttpResponseError) as excinfo:
        kv.vaults.begin_create_or_update(rg, unique("kv-norec-"), _vault(emulator, createMode="recover")).result()
    assert excinfo.value.status_code == 404


def test_purge_protection_blocks_purge_and_cannot_be_disabled(emulator: Any, kv: Any, rg: str,
                                                              unique: Callable[[str], str]) -> None:
    name = unique("kv-pp-")
    kv.vaults.begin_create_or_update(rg, name, _vault(emulator, enablePurgeProtection=True)).result()
    with pytest.raises(HttpResponseError) as excinfo:
        kv.vaults.begin_create_or_update(rg, name, _vault(emulator, enablePurgeProtection=False)).result()
    assert excinfo.value.status_code == 400
    kv.vaults.delete(rg, name)
    assert kv.vaults.get_deleted(name, "westeurope").properties.purge_protection_enabled is True
    with pytest.raises(HttpResponseError) as excinfo:
        kv.vaults.begin_purge_deleted(name, "westeurope").result()
    assert (excinfo.value.status_code, excinfo.value.error.code) == (405, "MethodNotAllowed")
    assert name in [d.name for d in kv.vaults.list_deleted()]


def test_rules_on_retention_soft_delete_and_sku(emulator: Any, kv: Any, rg: str,
                                                unique: Callable[[str], str]) -> None:
    name = unique("kv-rule-")
    for props in ({"softDeleteRetentionInDays": 6}, {"enableSoftDelete": False}):
        with pytest.raises(HttpResponseError) as excinfo:
            kv.vaults.begin_create_or_update(rg, name, _vault(emulator, **props)).result()
        assert excinfo.value.status_code == 400, props
    bad_sku = _vault(emulator)
    bad_sku["properties"]["sku"] = {"family": "A", "name": "gold"}
    with pytest.raises(HttpResponseError):
        kv.vaults.begin_create_or_update(rg, name, bad_sku).result()
    kv.vaults.begin_create_or_update(rg, name, _vault(emulator, softDeleteRetentionInDays=30)).result()
    with pytest.raises(HttpResponseError) as excinfo:
        kv.vaults.begin_create_or_update(rg, name, _vault(emulator, softDeleteRetentionInDays=60)).result()
    assert excinfo.value.status_code == 400, "retention cannot change after creation"


def test_patch_merges_and_resource_group_delete_soft_deletes(emulator: Any, kv: Any, resource_client: Any,
                                                             unique: Callable[[str], str]) -> None:
    group = unique("rg-kv-cascade-")
    resource_client.resource_groups.create_or_update(group, {"location": "westeurope"})
    name = unique("kv-casc-")
    kv.vaults.begin_create_or_update(group, name, _vault(emulator)).result()
    patched = kv.vaults.update(group, name, {"tags": {"env": "test"}, "properties": {"enabledForDeployment": True}})
    assert patched.tags == {"env": "test"}
    assert patched.properties.enabled_for_deployment is True
    assert patched.properties.enable_rbac_authorization is True, "PATCH keeps what it does not mention"
    resource_client.resource_groups.begin_delete(group).result()
    assert kv.vaults.get_deleted(name, "westeurope").properties.tags == {"env": "test"}


def test_secrets_plane_follows_vault_lifecycle(emulator: Any, kv: Any, rg: str, unique: Callable[[str], str]) -> None:
    from azure.keyvault.secrets import SecretClient

    name = unique("kv-plane-")
    policy = {"tenantId": emulator.env["AZURE_TENANT"], "objectId": _caller_object_id(emulator),
              "permissions": {"secrets": ["get", "set", "list"]}}
    vault = kv.vaults.begin_create_or_update(rg, name, _vault(emulator, enableRbacAuthorization=False,
                                                              accessPolicies=[policy])).result()
    secrets = SecretClient(vault.properties.vault_uri, emulator.credential(),
                           connection_verify=emulator.env["REQUESTS_CA_BUNDLE"])
    assert secrets.set_secret("db-password", "s3cret").value == "s3cret"
    kv.vaults.delete(rg, name)
    with pytest.raises(HttpResponseError):
        secrets.get_secret("db-password")
    recovered = kv.vaults.begin_create_or_update(rg, name, _vault(emulator, createMode="recover")).result()
    assert recovered.properties.vault_uri == vault.properties.vault_uri
    assert secrets.get_secret("db-password").value == "s3cret", "recovering the vault brings its secrets back"
    kv.vaults.delete(rg, name)
    kv.vaults.begin_purge_deleted(name, "westeurope").result()
    kv.vaults.begin_create_or_update(rg, name, _vault(emulator, enableRbacAuthorization=False,
                                                      accessPolicies=[policy])).result()
    with pytest.raises(ResourceNotFoundError):
        secrets.get_secret("db-password")


def test_access_policy_edits(emulator: Any, kv: Any, rg: str, unique: Callable[[str], str]) -> None:
    name = unique("kv-ap-")
    tenant = emulator.env["AZURE_TENANT"]
    reader = {"tenantId": tenant, "objectId": "11111111-1111-4111-8111-111111111111",
              "permissions": {"secrets": ["get"]}}
    kv.vaults.begin_create_or_update(rg, name, _vault(emulator, enableRbacAuthorization=False,
                                                      accessPolicies=[reader])).result()
    more = {**reader, "permissions": {"secrets": ["list", "get"]}}
    kv.vaults.update_access_policy(rg, name, "add", {"properties": {"accessPolicies": [more]}})
    other = {"tenantId": tenant, "objectId": "22222222-2222-4222-8222-222222222222",
             "permissions": {"secrets": ["set"]}}
    kv.vaults.update_access_policy(rg, name, "add", {"properties": {"accessPolicies": [other]}})
    policies = kv.vaults.get(rg, name).properties.access_policies
    assert [(p.object_id, sorted(p.permissions.secrets)) for p in policies] == [
        (reader["objectId"], ["get", "list"]), (other["objectId"], ["set"])]
    kv.vaults.update_access_policy(rg, name, "remove", {"properties": {"accessPolicies": [other]}})
    kv.vaults.update_access_policy(rg, name, "replace", {"properties": {"accessPolicies": [reader]}})
    policies = kv.vaults.get(rg, name).properties.access_policies
    assert [(p.object_id, p.permissions.secrets) for p in policies] == [(reader["objectId"], ["get"])]
    assert not [r for r in emulator.resources() if "/accesspolicies/" in r["id"].lower()], \
        "an access-policy edit changes the vault, it is not a resource of its own"


def _caller_object_id(emulator: Any) -> str:
    import base64
    import json

    token = emulator.credential().get_token("https://management.core.windows.net//.default").token
    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["oid"])


@pytest.mark.parametrize("example", ["Microsoft.KeyVault/2026-02-01/createVault.json",
                                     "Microsoft.KeyVault/2026-02-01/createVaultWithNetworkAcls.json"])
def test_microsoft_create_examples(emulator: Any, rg: str, unique: Callable[[str], str], example: str) -> None:
    data = load_example(example)
    request = data["parameters"]["parameters"]
    request["properties"]["tenantId"] = emulator.env["AZURE_TENANT"]
    for policy in request["properties"].get("accessPolicies", []):
        policy["tenantId"] = emulator.env["AZURE_TENANT"]
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    path = f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{unique('kv-ex-')}"
    status, body, _ = emulator.arm().call("PUT", f"{path}?api-version={API}", request)
    assert status == 201
    documented = data["responses"]["201"]["body"]
    assert_shape(body, documented, request, also=frozenset({"vaultUri", "properties"}))
    if "networkAcls" in request["properties"]:
        assert body["properties"]["networkAcls"]["ipRules"][0]["value"] == "124.56.78.91/32", \
            "single addresses are stored as /32, as the example documents"


def test_microsoft_deleted_vault_examples(emulator: Any, kv: Any, rg: str, unique: Callable[[str], str]) -> None:
    listed = load_example("Microsoft.KeyVault/2026-02-01/listDeletedVaults.json")
    purge = load_example("Microsoft.KeyVault/2026-02-01/purgeDeletedVault.json")
    name = unique("kv-exdel-")
    kv.vaults.begin_create_or_update(rg, name, _vault(emulator)).result()
    kv.vaults.delete(rg, name)
    sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
    arm = emulator.arm()
    status, body, _ = arm.call("GET", f"/subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults"
                                      f"?api-version={API}")
    assert status == 200
    mine = [v for v in body["value"] if v["name"] == name]
    documented = listed["responses"]["200"]["body"]["value"][0]
    assert_shape(mine[0], documented, also=frozenset({"properties", *documented["properties"]}))
    status, _, _ = arm.call("POST", f"/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/westeurope/"
                                    f"deletedVaults/{name}/purge?api-version={API}")
    assert str(status) in purge["responses"]

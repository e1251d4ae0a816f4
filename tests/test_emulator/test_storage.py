"""Microsoft.Storage storage accounts through azure-mgmt-storage: CRUD, LRO, keys, names, global uniqueness."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

pytestmark = pytest.mark.emulator
ACCOUNT = {"location": "westeurope", "sku": {"name": "Standard_RAGRS"}, "kind": "StorageV2",
           "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False}}


@pytest.fixture(scope="module")
def storage(emulator: Any) -> Any:
    from azure.mgmt.storage import StorageManagementClient

    return emulator.mgmt_client(StorageManagementClient)


def _name(rg: str, tag: str) -> str:
    return (tag + rg.replace("-", ""))[:24]


def test_create_read_update_delete(emulator: Any, storage: Any, rg: str) -> None:
    name = _name(rg, "crud")
    account = storage.storage_accounts.begin_create(rg, name, ACCOUNT).result()
    assert account.provisioning_state == "Succeeded"
    # With Azurite installed the blob endpoint is its own (test_dataplane_blob.py); the other services keep Azure's.
    if not emulator.dataplanes()["blob"]["enabled"]:
        assert account.primary_endpoints.blob == f"https://{name}.blob.core.windows.net/"
    assert account.primary_endpoints.queue == f"https://{name}.queue.core.windows.net/"
    assert account.secondary_location == "northeurope", "RA-GRS replicates to the paired region"
    assert account.access_tier == "Hot" and account.enable_https_traffic_only is True
    updated = storage.storage_accounts.update(rg, name, {"tags": {"env": "test"}})
    assert updated.tags == {"env": "test"}
    assert updated.creation_time == account.creation_time
    assert [a.name for a in storage.storage_accounts.list_by_resource_group(rg)] == [name]
    storage.storage_accounts.delete(rg, name)
    assert list(storage.storage_accounts.list_by_resource_group(rg)) == []


def test_list_and_regenerate_keys(storage: Any, rg: str) -> None:
    name = _name(rg, "keys")
    storage.storage_accounts.begin_create(rg, name, ACCOUNT).result()
    keys = {k.key_name: k.value for k in storage.storage_accounts.list_keys(rg, name).keys_property}
    assert set(keys) == {"key1", "key2"} and keys["key1"] != keys["key2"]
    assert {k.key_name: k.value for k in storage.storage_accounts.list_keys(rg, name).keys_property} == keys
    regenerated = storage.storage_accounts.regenerate_key(rg, name, {"keyName": "key2"})
    after = {k.key_name: k.value for k in regenerated.keys_property}
    assert after["key1"] == keys["key1"] and after["key2"] != keys["key2"]


def test_name_rules(storage: Any, rg: str) -> None:
    for bad in ("UPPERCASE1", "ab", "has-dash-name", "x" * 25):
        with pytest.raises(HttpResponseError) as excinfo:
            storage.storage_accounts.begin_create(rg, bad, ACCOUNT).result()
        assert excinfo.value.error.code == "AccountNameInvalid", bad


def test_name_is_global_across_subscriptions(emulator: Any, storage: Any, rg: str) -> None:
    from azure.mgmt.resource.resources import ResourceManagementClient
    from azure.mgmt.storage import StorageManagementClient

    name = _name(rg, "glob")
    storage.storage_accounts.begin_create(rg, name, ACCOUNT).result()
    sub2 = emulator.env["AZURE_EMULATOR_SUBSCRIPTION_ID_2"]
    cred2 = emulator.second_credential()
    emulator.mgmt_client(ResourceManagementClient, sub2, cred2).resource_groups.create_or_update(
        "other", {"location": "westeurope"})
    other = emulator.mgmt_client(StorageManagementClient, sub2, cred2)
    with pytest.raises(HttpResponseError) as excinfo:
        other.storage_accounts.begin_create("other", name, ACCOUNT).result()
    assert excinfo.value.status_code == 409
    assert excinfo.value.error.code == "StorageAccountAlreadyTaken"
    result = other.storage_accounts.check_name_availability({"name": name, "type": "Microsoft.Storage/storageAccounts"})
    assert result.name_available is False and result.reason == "AlreadyExists"
    free = other.storage_accounts.check_name_availability({"name": name + "x",
                                                           "type": "Microsoft.Storage/storageAccounts"})
    assert free.name_available is True


def test_sku_and_kind_are_validated(storage: Any, rg: str) -> None:
    with pytest.raises(HttpResponseError) as excinfo:
        storage.storage_accounts.begin_create(rg, _name(rg, "sku"), {**ACCOUNT, "sku": {"name": "Gold_LRS"}}).result()
    assert excinfo.value.status_code == 400
    with pytest.raises(HttpResponseError) as excinfo:
        storage.storage_accounts.begin_create(rg, _name(rg, "kind"), {**ACCOUNT, "kind": "FileStorage"}).result()
    assert excinfo.value.error.code == "SkuNotSupported"


def test_blob_service_settings_exist_with_the_account_and_check_retention(storage: Any, rg: str) -> None:
    name = _name(rg, "blobsvc")
    storage.storage_accounts.begin_create(rg, name, ACCOUNT).result()
    before = storage.blob_services.get_service_properties(rg, name)
    assert before.name == "default" and before.delete_retention_policy.enabled is False
    updated = storage.blob_services.set_service_properties(rg, name, {"properties": {
        "isVersioningEnabled": True, "deleteRetentionPolicy": {"enabled": True, "days": 30},
        "containerDeleteRetentionPolicy": {"enabled": True, "days": 7}}})
    assert updated.is_versioning_enabled is True and updated.delete_retention_policy.days == 30
    assert storage.blob_services.get_service_properties(rg, name).container_delete_retention_policy.days == 7
    for days in (0, 366):
        with pytest.raises(HttpResponseError) as excinfo:
            storage.blob_services.set_service_properties(rg, name, {"properties": {
                "deleteRetentionPolicy": {"enabled": True, "days": days}}})
        assert excinfo.value.error.code == "InvalidRequestPropertyValue", days


def test_lifecycle_management_policy_rules(storage: Any, rg: str) -> None:
    name = _name(rg, "lifecycle")
    storage.storage_accounts.begin_create(rg, name, ACCOUNT).result()
    rule = {"enabled": True, "name": "deleteOldVersions", "type": "Lifecycle",
            "definition": {"actions": {"version": {"delete": {"daysAfterCreationGreaterThan": 90}}},
                           "filters": {"blobTypes": ["blockBlob"]}}}
    policy = storage.management_policies.create_or_update(rg, name, "default",
                                                          {"properties": {"policy": {"rules": [rule]}}})
    assert [r.name for r in policy.policy.rules] == ["deleteOldVersions"]
    assert policy.last_modified_time is not None
    bad = {**rule, "definition": {**rule["definition"], "filters": {"blobTypes": ["pageBlob"]}}}
    with pytest.raises(HttpResponseError) as excinfo:
        storage.management_policies.create_or_update(rg, name, "default", {"properties": {"policy": {"rules": [bad]}}})
    assert excinfo.value.error.code == "InvalidManagementPolicyRules"
    with pytest.raises(HttpResponseError) as excinfo:
        storage.management_policies.create_or_update(rg, name, "default",
                                                      {"properties": {"policy": {"rules": [rule, rule]}}})
    assert excinfo.value.error.code == "InvalidManagementPolicyRules"

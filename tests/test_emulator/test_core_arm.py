"""Generic ARM semantics: CRUD, casing, PATCH, HEAD, paging, parents, errors, etags, locks, cascade delete,
long-running operations in realistic latency, and persistence across a restart."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tests.emulator.pytest_plugin import EmulatorProcess

pytestmark = pytest.mark.emulator
NET_API = "2024-05-01"


def _sub(emulator: Any) -> str:
    return str(emulator.env["AZURE_SUBSCRIPTION_ID"])


def test_resource_group_crud(resource_client: Any, unique: Callable[[str], str]) -> None:
    name = unique("rg-crud-")
    created = resource_client.resource_groups.create_or_update(name, {"location": "West Europe", "tags": {"a": "1"}})
    assert created.location == "westeurope", "ARM stores the normalised location"
    assert created.properties.provisioning_state == "Succeeded"
    updated = resource_client.resource_groups.update(name, {"tags": {"b": "2"}})
    assert updated.tags == {"b": "2"}, "PATCH replaces tags as a whole"
    assert resource_client.resource_groups.check_existence(name) is True
    resource_client.resource_groups.begin_delete(name).result()
    assert resource_client.resource_groups.check_existence(name) is False
    with pytest.raises(ResourceNotFoundError) as excinfo:
        resource_client.resource_groups.get(name)
    assert excinfo.value.error.code == "ResourceGroupNotFound"


def test_create_then_replace_status_codes(emulator: Any, unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    path = f"/subscriptions/{_sub(emulator)}/resourcegroups/{unique('rg-codes-')}?api-version=2025-04-01"
    first = arm.call("PUT", path, {"location": "westeurope"})
    second = arm.call("PUT", path, {"location": "westeurope"})
    assert (first[0], second[0]) == (201, 200)
    assert first[2].get("x-ms-request-id")


def test_ids_are_case_insensitive_and_keep_first_casing(emulator: Any, unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    name = unique("MyGroup-")
    arm.call("PUT", f"/subscriptions/{_sub(emulator)}/resourceGroups/{name}?api-version=2025-04-01",
             {"location": "westeurope"})
    status, body, _ = arm.call("GET", f"/subscriptions/{_sub(emulator)}/resourcegroups/{name.lower()}"
                                      "?api-version=2025-04-01")
    assert status == 200
    assert body["name"] == name
    status, body, _ = arm.call("PUT", f"/subscriptions/{_sub(emulator)}/resourcegroups/{name.upper()}"
                                      "?api-version=2025-04-01", {"location": "westeurope"})
    assert status == 200 and body["name"] == name, "a re-PUT with other casing updates, keeping the first casing"


def test_location_cannot_change(resource_client: Any, unique: Callable[[str], str]) -> None:
    name = unique("rg-loc-")
    resource_client.resource_groups.create_or_update(name, {"location": "westeurope"})
    with pytest.raises(HttpResponseError) as excinfo:
        resource_client.resource_groups.create_or_update(name, {"location": "northeurope"})
    assert excinfo.value.error.code == "InvalidResourceGroupLocation"


def test_location_is_required_and_must_exist(emulator: Any, unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    path = f"/subscriptions/{_sub(emulator)}/resourcegroups/{unique('rg-noloc-')}?api-version=2025-04-01"
    status, body, _ = arm.call("PUT", path, {"tags": {}})
    assert (status, body["error"]["code"]) == (400, "LocationRequired")
    status, body, _ = arm.call("PUT", path, {"location": "Mars North"})
    assert (status, body["error"]["code"]) == (400, "LocationNotAvailableForResourceType")


def test_invalid_resource_group_name(emulator: Any) -> None:
    status, body, _ = emulator.arm().call(
        "PUT", f"/subscriptions/{_sub(emulator)}/resourcegroups/ends-with-dot.?api-version=2025-04-01",
        {"location": "westeurope"})
    assert (status, body["error"]["code"]) == (400, "InvalidResourceGroupName")


def test_paging_follows_next_link(emulator: Any, resource_client: Any, unique: Callable[[str], str]) -> None:
    prefix = unique("rg-page-")
    names = {f"{prefix}-{i}" for i in range(25)}
    for name in names:
        resource_client.resource_groups.create_or_update(name, {"location": "westeurope"})
    mark = len(emulator.requests())
    listed = {g.name for g in resource_client.resource_groups.list()}
    assert names <= listed
    pages = [r for r in emulator.requests()[mark:] if r["method"] == "GET" and r["path"].endswith("/resourcegroups")]
    assert len(pages) >= 2, "more than one page was served (page size 20)"


def test_missing_parents(network_client: Any, rg: str) -> None:
    with pytest.raises(HttpResponseError) as excinfo:
        network_client.subnets.begin_create_or_update(rg, "no-such-vnet", "s1",
                                                      {"properties": {"addressPrefix": "10.0.0.0/24"}}).result()
    assert excinfo.value.status_code == 404
    assert excinfo.value.error.code == "ParentResourceNotFound"
    with pytest.raises(HttpResponseError) as excinfo:
        network_client.virtual_networks.begin_create_or_update(
            "no-such-group", "v", {"location": "westeurope",
                                   "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}).result()
    assert excinfo.value.error.code == "ResourceGroupNotFound"


def test_get_missing_resource_is_arm_404(emulator: Any, rg: str) -> None:
    status, body, headers = emulator.arm().call(
        "GET", f"/subscriptions/{_sub(emulator)}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/nope"
               f"?api-version={NET_API}")
    assert status == 404
    assert set(body["error"]) >= {"code", "message"}
    assert body["error"]["code"] == "ResourceNotFound"
    assert headers.get("x-ms-request-id")


def test_delete_missing_resource_is_204(emulator: Any, rg: str) -> None:
    status, _, _ = emulator.arm().call(
        "DELETE", f"/subscriptions/{_sub(emulator)}/resourceGroups/{rg}/providers/Microsoft.Network/"
                  f"networkSecurityGroups/nope?api-version={NET_API}")
    assert status == 204


def test_etags_and_preconditions(emulator: Any, rg: str) -> None:
    arm = emulator.arm()
    path = (f"/subscriptions/{_sub(emulator)}/resourceGroups/{rg}/providers/Microsoft.Network/"
            f"networkSecurityGroups/nsg-etag?api-version={NET_API}")
    _, first, headers = arm.call("PUT", path, {"location": "westeurope"})
    assert first["etag"].startswith('W/"') and headers["ETag"] == first["etag"]
    status, body, _ = arm.call("PUT", path, {"location": "westeurope"}, headers={"If-None-Match": "*"})
    assert (status, body["error"]["code"]) == (412, "PreconditionFailed")
    status, body, _ = arm.call("PUT", path, {"location": "westeurope"}, headers={"If-Match": 'W/"stale"'})
    assert status == 412
    status, second, _ = arm.call("PUT", path, {"location": "westeurope"}, headers={"If-Match": first["etag"]})
    assert status == 200 and second["etag"] != first["etag"]


def test_invalid_json_body(emulator: Any, unique: Callable[[str], str]) -> None:
    arm = emulator.arm()
    url = f"{emulator.base_url}/subscriptions/{_sub(emulator)}/resourcegroups/{unique('rg-json-')}?api-version=2025-04-01"
    from azure.core.rest import HttpRequest

    response = arm.client.send_request(HttpRequest("PUT", url, content=b"{not json",
                                                   headers={"Content-Type": "application/json"}))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "InvalidRequestContent"


def test_resource_group_delete_takes_everything_inside(emulator: Any, resource_client: Any, network_client: Any,
                                                       unique: Callable[[str], str]) -> None:
    name = unique("rg-cascade-")
    resource_client.resource_groups.create_or_update(name, {"location": "westeurope"})
    network_client.virtual_networks.begin_create_or_update(name, "v1", {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]},
                                                 "subnets": [{"name": "s1", "properties": {"addressPrefix": "10.1.0.0/24"}}]}
    }).result()
    resource_client.resource_groups.begin_delete(name).result()
    left = [r["id"] for r in emulator.resources() if f"/resourceGroups/{name}".lower() in r["id"].lower()]
    assert left == []


def test_can_not_delete_lock_blocks_group_delete(emulator: Any, resource_client: Any,
                                                 unique: Callable[[str], str]) -> None:
    name = unique("rg-locked-")
    resource_client.resource_groups.create_or_update(name, {"location": "westeurope"})
    lock = (f"/subscriptions/{_sub(emulator)}/resourceGroups/{name}/providers/Microsoft.Authorization/locks/keep"
            "?api-version=2020-05-01")
    status, body, _ = emulator.arm().call("PUT", lock, {"properties": {"level": "CanNotDelete", "notes": "keep"}})
    assert status == 201 and body["properties"]["level"] == "CanNotDelete"
    with pytest.raises(HttpResponseError) as excinfo:
        resource_client.resource_groups.begin_delete(name).result()
    assert excinfo.value.status_code == 409
    assert excinfo.value.error.code == "ScopeLocked"
    assert emulator.arm().call("DELETE", lock)[0] == 200
    resource_client.resource_groups.begin_delete(name).result()
    assert resource_client.resource_groups.check_existence(name) is False


def test_read_only_lock_blocks_writes_and_list_keys(emulator: Any, rg: str) -> None:
    from azure.mgmt.storage import StorageManagementClient

    storage = emulator.mgmt_client(StorageManagementClient)
    storage.storage_accounts.begin_create(rg, f"st{rg.replace('-', '')[-18:]}", {
        "location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}).result()
    account = next(iter(storage.storage_accounts.list_by_resource_group(rg)))
    lock = f"{account.id}/providers/Microsoft.Authorization/locks/ro?api-version=2020-05-01"
    assert emulator.arm().call("PUT", lock, {"properties": {"level": "ReadOnly"}})[0] == 201
    with pytest.raises(HttpResponseError) as excinfo:
        storage.storage_accounts.list_keys(rg, account.name)
    assert excinfo.value.error.code == "ScopeLocked"
    with pytest.raises(HttpResponseError) as excinfo:
        storage.storage_accounts.update(rg, account.name, {"tags": {"x": "y"}})
    assert excinfo.value.error.code == "ScopeLocked"
    emulator.arm().call("DELETE", lock)
    assert storage.storage_accounts.list_keys(rg, account.name)


def test_generic_resource_list(emulator: Any, network_client: Any, rg: str) -> None:
    network_client.network_security_groups.begin_create_or_update(rg, "listed", {"location": "westeurope"}).result()
    status, body, _ = emulator.arm().call("GET", f"/subscriptions/{_sub(emulator)}/resourceGroups/{rg}/resources"
                                                 "?api-version=2025-04-01")
    assert status == 200
    assert [r["name"] for r in body["value"]] == ["listed"]


# --- separate emulators: realistic latency and persistence ----------------------------------------------------
@pytest.fixture
def own_emulator() -> Any:
    started: list[EmulatorProcess] = []

    def start(*args: str) -> EmulatorProcess:
        tmp = Path(tempfile.mkdtemp(prefix="cf-emu-own-"))
        proc = EmulatorProcess(tmp, list(args)).start()
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def test_realistic_latency_runs_long_running_operations(own_emulator: Any) -> None:
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    emu = own_emulator("--latency", "realistic", "--time-scale", "0.2")
    emu.mgmt_client(ResourceManagementClient).resource_groups.create_or_update("rg", {"location": "westeurope"})
    network = emu.mgmt_client(NetworkManagementClient)
    body = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}
    status, initial, headers = emu.arm().call(
        "PUT", f"/subscriptions/{_sub(emu)}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v1"
               f"?api-version={NET_API}", body)
    assert status == 201
    assert initial["properties"]["provisioningState"] == "Updating"
    assert headers["Retry-After"] == "1"
    assert "Azure-AsyncOperation" in headers
    _, operation, _ = emu.arm().call("GET", headers["Azure-AsyncOperation"])
    assert operation["status"] == "InProgress"
    # The SDK poller follows Azure-AsyncOperation until the VNet (8 s x 0.2) is done.
    vnet = network.virtual_networks.begin_create_or_update("rg", "v2", body).result()
    assert vnet.provisioning_state == "Succeeded"
    _, operation, _ = emu.arm().call("GET", headers["Azure-AsyncOperation"])
    assert operation["status"] == "Succeeded", "v1 started first, so it is done too"
    assert network.virtual_networks.get("rg", "v1").provisioning_state == "Succeeded"


def test_concurrent_subnet_writes_conflict(own_emulator: Any) -> None:
    emu = own_emulator("--latency", "realistic", "--time-scale", "0.5")
    arm = emu.arm()
    base = f"/subscriptions/{_sub(emu)}/resourceGroups/rg"
    arm.call("PUT", f"{base}?api-version=2025-04-01", {"location": "westeurope"})
    vnet = f"{base}/providers/Microsoft.Network/virtualNetworks/v1"
    arm.call("PUT", f"{vnet}?api-version={NET_API}",
             {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}})
    deadline = time.monotonic() + 30
    while arm.call("GET", f"{vnet}?api-version={NET_API}")[1]["properties"]["provisioningState"] != "Succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.5)
    first = arm.call("PUT", f"{vnet}/subnets/a?api-version={NET_API}", {"properties": {"addressPrefix": "10.0.1.0/24"}})
    assert first[0] == 201
    second = arm.call("PUT", f"{vnet}/subnets/b?api-version={NET_API}",
                      {"properties": {"addressPrefix": "10.0.2.0/24"}})
    assert second[0] == 409
    assert second[1]["error"]["code"] == "AnotherOperationInProgress"


def test_state_survives_restart(own_emulator: Any) -> None:
    from azure.mgmt.network import NetworkManagementClient
    from azure.mgmt.resource.resources import ResourceManagementClient

    emu = own_emulator()
    emu.mgmt_client(ResourceManagementClient).resource_groups.create_or_update("Keep-Me", {"location": "westeurope"})
    emu.mgmt_client(NetworkManagementClient).virtual_networks.begin_create_or_update("Keep-Me", "v1", {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                                                 "subnets": [{"name": "s", "properties": {"addressPrefix": "10.0.0.0/24"}}]}
    }).result()
    before = emu.resources()
    assert emu.stop() == 0, "SIGTERM stops the emulator cleanly"
    emu.start()
    assert emu.resources() == before
    vnet = emu.mgmt_client(NetworkManagementClient).virtual_networks.get("keep-me", "V1")
    assert vnet.id.endswith("/resourceGroups/Keep-Me/providers/Microsoft.Network/virtualNetworks/v1")
    assert [s.name for s in vnet.subnets] == ["s"]


def test_reset_forgets_everything(own_emulator: Any) -> None:
    from azure.mgmt.resource.resources import ResourceManagementClient

    emu = own_emulator()
    client = emu.mgmt_client(ResourceManagementClient)
    client.resource_groups.create_or_update("gone", {"location": "westeurope"})
    emu.reset()
    assert emu.resources() == []
    assert emu.requests() == []
    assert client.resource_groups.check_existence("gone") is False

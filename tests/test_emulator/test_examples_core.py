"""Microsoft's REST examples for the core's namespaces (Resources, Authorization locks/policy, Network, private DNS,
Storage): each example request is accepted with a documented status code and the response has the documented
shape. Examples are read in place from ../shared/azure-rest-examples (or $CF_SHARED_DIR)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.test_emulator.examples import assert_shape, load_example, rewrite

pytestmark = pytest.mark.emulator
NET = "Microsoft.Network"


class ExampleRun:
    def __init__(self, emulator: Any, rg: str) -> None:
        self.emulator = emulator
        self.arm = emulator.arm()
        self.sub = emulator.env["AZURE_SUBSCRIPTION_ID"]
        self.rg = rg
        self.rg_path = f"/subscriptions/{self.sub}/resourceGroups/{rg}"

    def localise(self, example: dict[str, Any], value: Any) -> Any:
        params = example["parameters"]
        replacements = {}
        if params.get("subscriptionId"):
            replacements[f"/subscriptions/{params['subscriptionId']}/"] = f"/subscriptions/{self.sub}/"
        for other in ("virtualNetworkSubscriptionId",):
            replacements[f"/subscriptions/{other}/"] = f"/subscriptions/{self.sub}/"
        if params.get("resourceGroupName"):
            replacements[f"/resourceGroups/{params['resourceGroupName']}/"] = f"/resourceGroups/{self.rg}/"
        replacements["/resourceGroups/virtualNetworkResourceGroup/"] = f"/resourceGroups/{self.rg}/"
        return rewrite(value, replacements)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, out, _ = self.arm.call(method, path, body)
        return status, out

    def put(self, path: str, api: str, body: Any) -> Any:
        status, out = self.call("PUT", f"{path}?api-version={api}", body)
        assert status in (200, 201), out
        return out

    def vnet(self, name: str, prefix: str, location: str = "eastus", subnets: dict[str, str] | None = None) -> Any:
        props: dict[str, Any] = {"addressSpace": {"addressPrefixes": [prefix]}}
        if subnets:
            props["subnets"] = [{"name": n, "properties": {"addressPrefix": p}} for n, p in subnets.items()]
        return self.put(f"{self.rg_path}/providers/{NET}/virtualNetworks/{name}", "2024-05-01",
                        {"location": location, "properties": props})

    def storage(self, name: str, location: str) -> Any:
        return self.put(f"{self.rg_path}/providers/Microsoft.Storage/storageAccounts/{name}", "2025-01-01",
                        {"location": location, "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"})

    def check(self, example: dict[str, Any], method: str, path: str, body_param: str | None,
              also: frozenset[str] = frozenset(), body: Any = None) -> Any:
        params = example["parameters"]
        if body is None and body_param is not None:
            body = self.localise(example, params[body_param])
        status, out = self.call(method, f"{path}?api-version={params['api-version']}", body)
        documented = example["responses"]
        assert str(status) in documented, f"{status} not in documented {sorted(documented)}: {out}"
        expected = documented[str(status)].get("body")
        if expected is not None:
            assert_shape(out, expected, body, also=also)
        return out


@pytest.fixture
def run(emulator: Any, resource_client: Any, unique: Callable[[str], str]) -> Iterator[ExampleRun]:
    name = unique("rg-example-")
    resource_client.resource_groups.create_or_update(name, {"location": "eastus"})
    yield ExampleRun(emulator, name)
    resource_client.resource_groups.begin_delete(name).result()


def test_create_resource_group(run: ExampleRun, unique: Callable[[str], str]) -> None:
    example = load_example("Microsoft.Resources/2025-04-01/CreateResourceGroup.json")
    name = unique("rg-ex-create-")
    out = run.check(example, "PUT", f"/subscriptions/{run.sub}/resourcegroups/{name}", "parameters")
    assert out["location"] == "eastus"
    run.call("DELETE", f"/subscriptions/{run.sub}/resourcegroups/{name}?api-version=2025-04-01")


def test_get_resource_group(run: ExampleRun) -> None:
    example = load_example("Microsoft.Resources/2025-04-01/ResourceGroups_Get.json")
    out = run.check(example, "GET", run.rg_path, None)
    assert out["type"] == "Microsoft.Resources/resourceGroups"


def test_lock_at_resource_group(run: ExampleRun) -> None:
    example = load_example("Microsoft.Authorization/2020-05-01/ManagementLocks_CreateOrUpdateAtResourceGroupLevel.json")
    path = f"{run.rg_path}/providers/Microsoft.Authorization/locks/{example['parameters']['lockName']}"
    out = run.check(example, "PUT", path, "parameters")
    assert out["properties"]["level"] == "ReadOnly"
    run.call("DELETE", f"{path}?api-version=2020-05-01")


def test_policy_assignment(run: ExampleRun) -> None:
    example = load_example("Microsoft.Authorization/2025-11-01/createPolicyAssignment.json")
    definition = f"/subscriptions/{run.sub}/providers/Microsoft.Authorization/policyDefinitions/ResourceNaming"
    run.put(definition, "2025-11-01", {"properties": {
        "mode": "Indexed", "parameters": {"prefix": {"type": "String"}, "suffix": {"type": "String"}},
        "policyRule": {"if": {"not": {"field": "name", "like": "[concat(parameters('prefix'), '*')]"}},
                       "then": {"effect": "audit"}}}})
    body = rewrite(example["parameters"]["parameters"], {"ae640e6b-ba3e-4256-9d62-2993eecfa6f2": run.sub})
    path = f"/subscriptions/{run.sub}/providers/Microsoft.Authorization/policyAssignments/EnforceNaming"
    out = run.check(example, "PUT", path, None, also=frozenset({"scope", "enforcementMode", "notScopes"}), body=body)
    assert out["properties"]["scope"] == f"/subscriptions/{run.sub}"
    run.call("DELETE", f"{path}?api-version=2025-11-01")


@pytest.mark.parametrize("file_name", ["2025-07-01/VirtualNetworkCreateServiceEndpoints.json",
                                       "2025-07-01/VirtualNetworkCreateSubnet.json"])
def test_virtual_network_create(run: ExampleRun, file_name: str) -> None:
    example = load_example(f"{NET}/{file_name}")
    path = f"{run.rg_path}/providers/{NET}/virtualNetworks/{example['parameters']['virtualNetworkName']}"
    out = run.check(example, "PUT", path, "parameters", also=frozenset({"virtualNetworkPeerings"}))
    assert out["properties"]["subnets"][0]["properties"]["provisioningState"] == "Succeeded"


def test_virtual_network_get(run: ExampleRun) -> None:
    example = load_example(f"{NET}/2025-09-01/VirtualNetworkGet.json")
    name = example["parameters"]["virtualNetworkName"]
    created = run.vnet(name, "10.0.0.0/16", subnets={"subnet1": "10.0.1.0/24"})
    out = run.check(example, "GET", f"{run.rg_path}/providers/{NET}/virtualNetworks/{name}", None,
                    also=frozenset({"addressSpace", "subnets", "addressPrefix", "virtualNetworkPeerings"}))
    assert out == created


@pytest.mark.parametrize("file_name", ["2025-05-01/SubnetCreate.json", "2025-09-01/SubnetCreateServiceEndpoint.json",
                                       "2025-07-01/SubnetCreateWithDelegation.json"])
def test_subnet_create(run: ExampleRun, file_name: str) -> None:
    example = load_example(f"{NET}/{file_name}")
    params = example["parameters"]
    run.vnet(params["virtualNetworkName"], params["subnetParameters"]["properties"]["addressPrefix"])
    path = (f"{run.rg_path}/providers/{NET}/virtualNetworks/{params['virtualNetworkName']}/subnets/"
            f"{params['subnetName']}")
    out = run.check(example, "PUT", path, "subnetParameters")
    for endpoint in out["properties"]["serviceEndpoints"]:
        assert endpoint["locations"] and endpoint["provisioningState"] == "Succeeded"


def test_subnet_get(run: ExampleRun) -> None:
    example = load_example(f"{NET}/2025-09-01/SubnetGet.json")
    params = example["parameters"]
    run.vnet(params["virtualNetworkName"], "10.0.0.0/16", subnets={params["subnetName"]: "10.0.0.0/16"})
    path = (f"{run.rg_path}/providers/{NET}/virtualNetworks/{params['virtualNetworkName']}/subnets/"
            f"{params['subnetName']}")
    run.check(example, "GET", path, None, also=frozenset({"addressPrefix"}))


def test_network_security_group_with_rule(run: ExampleRun) -> None:
    example = load_example(f"{NET}/2025-09-01/NetworkSecurityGroupCreateWithRule.json")
    path = f"{run.rg_path}/providers/{NET}/networkSecurityGroups/{example['parameters']['networkSecurityGroupName']}"
    out = run.check(example, "PUT", path, "parameters", also=frozenset({"defaultSecurityRules", "description"}))
    documented = example["responses"]["201"]["body"]["properties"]["defaultSecurityRules"]
    assert [r["name"] for r in out["properties"]["defaultSecurityRules"]] == [r["name"] for r in documented]
    assert [r["properties"]["priority"] for r in out["properties"]["defaultSecurityRules"]] == [
        r["properties"]["priority"] for r in documented]


def test_network_watcher_create_and_get(run: ExampleRun) -> None:
    create = load_example(f"{NET}/2025-09-01/NetworkWatcherCreate.json")
    name = create["parameters"]["networkWatcherName"]
    path = f"{run.rg_path}/providers/{NET}/networkWatchers/{name}"
    run.check(create, "PUT", path, "parameters")
    get = load_example(f"{NET}/2025-07-01/NetworkWatcherGet.json")
    run.check(get, "GET", f"{run.rg_path}/providers/{NET}/networkWatchers/{get['parameters']['networkWatcherName']}"
              if get["parameters"]["networkWatcherName"] == name else path, None)


def test_flow_log_example_targets_an_nsg_and_is_refused_then_accepted_for_a_vnet(run: ExampleRun) -> None:
    example = load_example(f"{NET}/2025-07-01/NetworkWatcherFlowLogCreate.json")
    params = example["parameters"]
    body = run.localise(example, params["parameters"])
    location = body["location"]
    storage_id = body["properties"]["storageId"]
    run.storage(storage_id.rsplit("/", 1)[-1], location)
    nsg_id = body["properties"]["targetResourceId"]
    run.put(nsg_id, "2024-05-01", {"location": location})
    watcher = f"{run.rg_path}/providers/{NET}/networkWatchers/{params['networkWatcherName']}"
    run.put(watcher, "2024-05-01", {"location": location})
    path = f"{watcher}/flowLogs/{params['flowLogName']}"
    status, out = run.call("PUT", f"{path}?api-version={params['api-version']}", body)
    assert (status, out["error"]["code"]) == (400, "NsgFlowLogCreationBlocked"), "Azure no longer creates NSG flow logs"
    vnet = run.vnet("flowlog-vnet", "10.20.0.0/16", location=location)
    body["properties"]["targetResourceId"] = vnet["id"]
    out = run.check(example, "PUT", path, None, body=body, also=frozenset({"targetResourceGuid"}))
    get = load_example(f"{NET}/2025-09-01/NetworkWatcherFlowLogGet.json")
    fetched = run.check(get, "GET", path, None, also=frozenset({"targetResourceId", "storageId", "enabled", "format"}))
    assert fetched == out


def test_private_dns_zone_and_link(run: ExampleRun) -> None:
    put = load_example(f"{NET}/2024-06-01/PrivateZonePut.json")
    zone = put["parameters"]["privateZoneName"]
    zone_path = f"{run.rg_path}/providers/{NET}/privateDnsZones/{zone}"
    also = frozenset({"maxNumberOfRecordSets", "numberOfRecordSets", "maxNumberOfVirtualNetworkLinks",
                      "numberOfVirtualNetworkLinks", "maxNumberOfVirtualNetworkLinksWithRegistration",
                      "numberOfVirtualNetworkLinksWithRegistration", "etag"})
    out = run.check(put, "PUT", zone_path, "parameters", also=also)
    assert out["location"] == "global", "'Global' is normalised"
    get = load_example(f"{NET}/2024-06-01/PrivateZoneGet.json")
    run.check(get, "GET", zone_path, None, also=also)
    link = load_example(f"{NET}/2024-06-01/VirtualNetworkLinkPut.json")
    body = run.localise(link, link["parameters"]["parameters"])
    vnet_id = body["properties"]["virtualNetwork"]["id"]
    run.vnet(vnet_id.rsplit("/", 1)[-1], "10.30.0.0/16")
    path = f"{zone_path}/virtualNetworkLinks/{link['parameters']['virtualNetworkLinkName']}"
    out = run.check(link, "PUT", path, None, body=body, also=frozenset({"virtualNetworkLinkState", "etag"}))
    assert out["properties"]["virtualNetworkLinkState"] == "Completed"
    run.call("DELETE", f"{path}?api-version=2024-06-01")


def test_private_endpoint(run: ExampleRun) -> None:
    example = load_example(f"{NET}/2025-07-01/PrivateEndpointCreate.json")
    params = example["parameters"]
    body = run.localise(example, params["parameters"])
    subnet_id = body["properties"]["subnet"]["id"]
    vnet_name = subnet_id.split("/virtualNetworks/")[1].split("/")[0]
    run.vnet(vnet_name, "192.168.0.0/16", location=body["location"], subnets={"mySubnet": "192.168.0.0/24"})
    # Microsoft.Network/privateLinkServices are not emulated: point the connection at an existing resource.
    target = run.put(f"{run.rg_path}/providers/{NET}/networkSecurityGroups/testPls", "2024-05-01",
                     {"location": body["location"]})
    body["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceId"] = target["id"]
    path = f"{run.rg_path}/providers/{NET}/privateEndpoints/{params['privateEndpointName']}"
    out = run.check(example, "PUT", path, None, body=body, also=frozenset({"networkInterfaces"}))
    assert out["properties"]["networkInterfaces"][0]["id"].endswith("/networkInterfaces/testPeNic")
    state = out["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]
    assert state["status"] == "Approved"


def test_storage_account_create(run: ExampleRun) -> None:
    example = load_example("Microsoft.Storage/2026-06-01/StorageAccountCreate.json")
    path = f"{run.rg_path}/providers/Microsoft.Storage/storageAccounts/{example['parameters']['accountName']}"
    also = frozenset({"primaryEndpoints", "primaryLocation", "statusOfPrimary", "creationTime", "keyCreationTime",
                      "supportsHttpsTrafficOnly", "secondaryLocation", "statusOfSecondary"})
    out = run.check(example, "PUT", path, "parameters", also=also)
    assert out["properties"]["secondaryLocation"] != out["properties"]["primaryLocation"], "GRS has a secondary"


# --- inventory: every Microsoft example in the shared folder is exercised by this suite ----------------------------
# The example tests above and in test_providers_*.py send each example request and compare the answer with the
# example's response (status code and shape). One is refused on purpose: the flow log example targets a network
# security group, and Azure no longer lets new NSG flow logs be created (the test then sends it for a VNet).
REFUSED_ON_PURPOSE = {"Microsoft.Network/2025-07-01/NetworkWatcherFlowLogCreate.json"}


def test_every_shared_example_is_exercised_by_a_test() -> None:
    from pathlib import Path

    from tests.test_emulator.examples import examples_root

    root = examples_root()
    if not root.is_dir():
        pytest.skip(f"Microsoft examples not available at {root} (set CF_SHARED_DIR)")
    sources = "\n".join(p.read_text() for p in Path(__file__).parent.glob("test_*.py"))
    examples = sorted(str(p.relative_to(root)) for p in root.rglob("*.json"))
    unused = [e for e in examples if Path(e).name not in sources]
    assert examples, "the shared folder has Microsoft's examples"
    assert unused == [], "docs/emulator.md counts every example as exercised; these are not"
    answered = [e for e in examples if e not in REFUSED_ON_PURPOSE]
    # docs/emulator.md ("Microsoft's examples") states this count: keep them in step.
    assert (len(examples), len(answered)) == (48, 47)

"""Two orderings the Container Apps environment needs from the engine.

1. A resource planned absent that a planned resource depends on is deleted before that resource is written: the
   Key Vault's old private endpoint leaves the containerapps subnet before the subnet is delegated (Azure refuses to
   delegate a subnet that holds a private endpoint). Other absent resources are still deleted last.
2. Entries whose ID holds ``<runtime:public-property:ID:PATH>`` (the environment's private DNS zone, named after the
   default domain Azure generates) are reconciled after the rest of the plan, with the value read from the resource
   the placeholder names; in check mode, before that resource exists, they are reported skipped.

The ARM client is an in-memory stand-in (the engine's only I/O seam) that records the order of writes and refuses
the delegation while an endpoint sits in the subnet, as Azure does.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ansible_collections.complianceflow.azure_infra.plugins.module_utils.arm_client import AzureApiError
from ansible_collections.complianceflow.azure_infra.plugins.module_utils.engine import (
    Engine,
    Options,
    PlanError,
    RuntimeValues,
)

RG = "/subscriptions/s/resourceGroups/rg"
VNET = f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet"
SUBNET = f"{VNET}/subnets/apps"
OLD_PE = f"{RG}/providers/Microsoft.Network/privateEndpoints/pe-old"
OTHER_PE = f"{RG}/providers/Microsoft.Network/privateEndpoints/pe-unrelated"
ENV = f"{RG}/providers/Microsoft.App/managedEnvironments/cae"
DOMAIN = f"<runtime:public-property:{ENV}:properties.defaultDomain>"
ZONE = f"{RG}/providers/Microsoft.Network/privateDnsZones/{DOMAIN}"


class FakeArm:
    def __init__(self, resources: dict[str, dict[str, Any]]) -> None:
        self.resources = {k.lower(): v for k, v in resources.items()}
        self.calls: list[tuple[str, str]] = []

    def get(self, resource_id: str, api_version: str) -> dict[str, Any] | None:
        self.calls.append(("GET", resource_id))
        found = self.resources.get(resource_id.lower())
        return copy.deepcopy(found) if found is not None else None

    def list(self, path: str, api_version: str) -> list[dict[str, Any]]:
        self.calls.append(("LIST", path))
        parent = path.lower()
        return [copy.deepcopy(v) for k, v in self.resources.items()
                if k.startswith(parent + "/") and "/" not in k[len(parent) + 1:]]

    def write(self, method: str, resource_id: str, api_version: str, body: dict[str, Any],
              timeout: float) -> dict[str, Any]:
        self.calls.append((method, resource_id))
        props = body.get("properties") or {}
        if props.get("delegations") and any(
                (pe.get("properties") or {}).get("subnet", {}).get("id", "").lower() == resource_id.lower()
                for k, pe in self.resources.items() if "/privateendpoints/" in k):
            raise AzureApiError(400, "SubnetWithPrivateEndpointCannotBeDelegated", "holds a private endpoint",
                                resource_id, method)
        stored = {**copy.deepcopy(body), "id": resource_id}
        if "/managedenvironments/" in resource_id.lower():
            stored["properties"] = {**props, "defaultDomain": "calmsea-1234abcd.westeurope.azurecontainerapps.io",
                                    "staticIp": "10.0.1.251"}
        self.resources[resource_id.lower()] = stored
        return copy.deepcopy(stored)

    def delete(self, resource_id: str, api_version: str, timeout: float) -> None:
        self.calls.append(("DELETE", resource_id))
        self.resources.pop(resource_id.lower(), None)


def _engine(client: FakeArm, entries: list[dict[str, Any]], check_mode: bool = False) -> Engine:
    engine = Engine(client, entries, Options(parallel=1, check_mode=check_mode), None)  # type: ignore[arg-type]
    engine.runtime = RuntimeValues(client)  # type: ignore[arg-type]
    return engine


def _writes(client: FakeArm) -> list[tuple[str, str]]:
    return [c for c in client.calls if c[0] in ("PUT", "PATCH", "DELETE")]


def test_an_absent_resource_a_planned_one_depends_on_is_deleted_before_it_is_written() -> None:
    old_pe = {"id": OLD_PE, "properties": {"subnet": {"id": SUBNET}}}
    other = {"id": OTHER_PE, "properties": {"subnet": {"id": f"{VNET}/subnets/other"}}}
    client = FakeArm({VNET: {"id": VNET, "properties": {}}, SUBNET: {"id": SUBNET, "properties": {}},
                      OLD_PE: old_pe, OTHER_PE: other})
    delegated = {"delegations": [{"name": "Microsoft.App.environments",
                                  "properties": {"serviceName": "Microsoft.App/environments"}}]}
    result = _engine(client, [
        {"id": SUBNET, "type": "Microsoft.Network/virtualNetworks/subnets", "properties": delegated,
         "depends_on": [VNET, OLD_PE]},
        {"id": OLD_PE, "type": "Microsoft.Network/privateEndpoints", "state": "absent"},
        {"id": OTHER_PE, "type": "Microsoft.Network/privateEndpoints", "state": "absent"},
    ]).run()
    assert result["failed"] == []
    # The awaited endpoint goes first, the subnet follows; the unrelated one is still deleted at the end.
    assert _writes(client) == [("DELETE", OLD_PE), ("PUT", SUBNET), ("DELETE", OTHER_PE)]


def test_without_the_dependency_the_delegation_is_refused() -> None:
    """Control: the same plan without the subnet waiting for the endpoint fails the way Azure fails it."""
    client = FakeArm({VNET: {"id": VNET, "properties": {}}, SUBNET: {"id": SUBNET, "properties": {}},
                      OLD_PE: {"id": OLD_PE, "properties": {"subnet": {"id": SUBNET}}}})
    result = _engine(client, [
        {"id": SUBNET, "type": "Microsoft.Network/virtualNetworks/subnets",
         "properties": {"delegations": [{"name": "d", "properties": {"serviceName": "Microsoft.App/environments"}}]},
         "depends_on": [VNET]},
        {"id": OLD_PE, "type": "Microsoft.Network/privateEndpoints", "state": "absent"},
    ]).run()
    assert any("SubnetWithPrivateEndpointCannotBeDelegated" in f for f in result["failed"])


def _zone_plan() -> list[dict[str, Any]]:
    return [
        {"id": ENV, "type": "Microsoft.App/managedEnvironments", "location": "westeurope",
         "properties": {"vnetConfiguration": {"infrastructureSubnetId": SUBNET, "internal": True}}},
        {"id": ZONE, "type": "Microsoft.Network/privateDnsZones", "location": "global", "properties": {},
         "depends_on": [ENV]},
        {"id": f"{ZONE}/A/*", "type": "Microsoft.Network/privateDnsZones/A", "depends_on": [ZONE, ENV],
         "properties": {"ttl": 3600, "aRecords": [
             {"ipv4Address": f"<runtime:public-property:{ENV}:properties.staticIp>"}]}},
    ]


def test_entries_named_after_a_run_time_value_follow_the_resource_that_gives_it() -> None:
    client = FakeArm({})
    result = _engine(client, _zone_plan()).run()
    assert result["failed"] == []
    zone = f"{RG}/providers/Microsoft.Network/privateDnsZones/calmsea-1234abcd.westeurope.azurecontainerapps.io"
    assert _writes(client) == [("PUT", ENV), ("PUT", zone), ("PUT", f"{zone}/A/*")]
    assert client.resources[f"{zone}/A/*".lower()]["properties"]["aRecords"] == [{"ipv4Address": "10.0.1.251"}]
    assert {r["id"]: r["action"] for r in result["results"]} == {ENV: "create", zone: "create",
                                                                 f"{zone}/A/*": "create"}
    # Converged: the second run reads, finds everything as planned and writes nothing.
    client.calls.clear()
    again = _engine(client, _zone_plan()).run()
    assert again["changed"] is False and _writes(client) == []
    assert again["counts"]["unchanged"] == 3


def test_in_check_mode_before_the_resource_exists_they_are_reported_skipped() -> None:
    client = FakeArm({})
    result = _engine(client, _zone_plan(), check_mode=True).run()
    actions = {r["id"]: r["action"] for r in result["results"]}
    assert actions[ENV] == "create"
    assert actions[ZONE] == "skipped" and actions[f"{ZONE}/A/*"] == "skipped"
    assert _writes(client) == []


@pytest.mark.parametrize("entries, words", [
    # Only a public property may name a resource: a secret must never become part of an ID.
    ([{"id": f"{RG}/providers/Microsoft.Network/privateDnsZones/<runtime:property:{ENV}:properties.x>",
       "type": "Microsoft.Network/privateDnsZones", "properties": {}}], "only <runtime:public-property"),
    # A planned resource cannot wait for one whose ID is known only after the pass.
    ([{"id": ZONE, "type": "Microsoft.Network/privateDnsZones", "properties": {}},
      {"id": ENV, "type": "Microsoft.App/managedEnvironments", "properties": {}, "depends_on": [ZONE]}],
     "depends on a resource whose ID is only known at run time"),
])
def test_run_time_ids_the_engine_cannot_honour_are_refused_before_any_request(entries: list[dict[str, Any]],
                                                                               words: str) -> None:
    with pytest.raises(PlanError, match=words.replace("(", r"\(")):
        Engine(None, entries, Options(), None)  # type: ignore[arg-type]

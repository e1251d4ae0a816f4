"""Microsoft.Network and private DNS through azure-mgmt-network / azure-mgmt-privatedns: CRUD and Azure's rules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

pytestmark = pytest.mark.emulator


def _vnet(prefixes: list[str], subnets: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {"addressSpace": {"addressPrefixes": prefixes}}
    if subnets is not None:
        props["subnets"] = [{"name": n, "properties": p} for n, p in subnets.items()]
    return {"location": "westeurope", "properties": props}


def _error(call: Callable[[], Any]) -> tuple[int, str]:
    with pytest.raises(HttpResponseError) as excinfo:
        call()
    return excinfo.value.status_code, excinfo.value.error.code


@pytest.fixture
def storage_account(emulator: Any, rg: str) -> Any:
    from azure.mgmt.storage import StorageManagementClient

    client = emulator.mgmt_client(StorageManagementClient)
    name = "st" + rg.replace("-", "")[-16:]
    return client.storage_accounts.begin_create(rg, name, {"location": "westeurope", "sku": {"name": "Standard_LRS"},
                                                           "kind": "StorageV2"}).result()


def test_vnet_with_inline_subnets_and_child_view(network_client: Any, rg: str) -> None:
    vnet = network_client.virtual_networks.begin_create_or_update(rg, "vnet", _vnet(["10.0.0.0/16"], {
        "app": {"addressPrefix": "10.0.1.0/24"}, "db": {"addressPrefix": "10.0.2.0/24"}})).result()
    assert [s.name for s in vnet.subnets] == ["app", "db"]
    assert vnet.resource_guid and vnet.etag
    child = network_client.subnets.get(rg, "vnet", "db")
    assert child.address_prefix == "10.0.2.0/24"
    assert child.private_endpoint_network_policies == "Disabled", "Azure's default for new subnets"
    network_client.subnets.begin_create_or_update(rg, "vnet", "extra", {"properties": {"addressPrefix": "10.0.3.0/24"}}
                                                  ).result()
    assert [s.name for s in network_client.virtual_networks.get(rg, "vnet").subnets] == ["app", "db", "extra"]
    assert sorted(s.name for s in network_client.subnets.list(rg, "vnet")) == ["app", "db", "extra"]


def test_vnet_put_without_subnets_removes_them(network_client: Any, rg: str) -> None:
    network_client.virtual_networks.begin_create_or_update(rg, "vnet", _vnet(["10.0.0.0/16"], {
        "app": {"addressPrefix": "10.0.1.0/24"}})).result()
    vnet = network_client.virtual_networks.begin_create_or_update(rg, "vnet", _vnet(["10.0.0.0/16"])).result()
    assert vnet.subnets == []
    assert list(network_client.subnets.list(rg, "vnet")) == []


def test_subnet_prefix_rules(network_client: Any, rg: str) -> None:
    network_client.virtual_networks.begin_create_or_update(rg, "vnet", _vnet(["10.0.0.0/16"], {
        "app": {"addressPrefix": "10.0.1.0/24"}})).result()

    def subnet(name: str, prefix: str) -> Any:
        return network_client.subnets.begin_create_or_update(rg, "vnet", name, {"properties": {"addressPrefix": prefix}}
                                                             ).result()

    assert _error(lambda: subnet("out", "10.1.0.0/24")) == (400, "NetcfgSubnetRangeOutsideVnet")
    assert _error(lambda: subnet("over", "10.0.1.128/25")) == (400, "NetcfgSubnetRangesOverlap")
    assert _error(lambda: subnet("bits", "10.0.5.1/24")) == (400, "InvalidCIDRNotation")
    assert _error(lambda: network_client.virtual_networks.begin_create_or_update(rg, "vnet2", _vnet(["10.0.0.0/16"], {
        "a": {"addressPrefix": "10.0.0.0/24"}, "b": {"addressPrefix": "10.0.0.0/25"}})).result()) == (
        400, "NetcfgSubnetRangesOverlap")


def test_subnet_service_endpoints_delegations_and_nsg(network_client: Any, rg: str) -> None:
    nsg = network_client.network_security_groups.begin_create_or_update(rg, "nsg", {"location": "westeurope"}).result()
    network_client.virtual_networks.begin_create_or_update(rg, "vnet", _vnet(["10.0.0.0/16"])).result()
    subnet = network_client.subnets.begin_create_or_update(rg, "vnet", "pg", {"properties": {
        "addressPrefix": "10.0.4.0/24",
        "serviceEndpoints": [{"service": "Microsoft.Storage"}],
        "delegations": [{"name": "pg", "properties": {"serviceName": "Microsoft.DBforPostgreSQL/flexibleServers"}}],
        "networkSecurityGroup": {"id": nsg.id},
    }}).result()
    assert subnet.service_endpoints[0].locations == ["westeurope", "northeurope"]
    assert subnet.delegations[0].actions == ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    assert subnet.network_security_group.id == nsg.id
    assert [s.id for s in network_client.network_security_groups.get(rg, "nsg").subnets] == [subnet.id]
    assert _error(lambda: network_client.network_security_groups.begin_delete(rg, "nsg").result()) == (
        400, "InUseNetworkSecurityGroupCannotBeDeleted")
    missing = nsg.id + "-missing"
    assert _error(lambda: network_client.subnets.begin_create_or_update(rg, "vnet", "x", {"properties": {
        "addressPrefix": "10.0.5.0/24", "networkSecurityGroup": {"id": missing}}}).result()) == (
        400, "InvalidResourceReference")


def test_nsg_rules(network_client: Any, rg: str) -> None:
    def rule(priority: int, direction: str = "Inbound", port: str = "443") -> dict[str, Any]:
        return {"priority": priority, "protocol": "Tcp", "access": "Allow", "direction": direction,
                "sourceAddressPrefix": "*", "destinationAddressPrefix": "*", "sourcePortRange": "*",
                "destinationPortRange": port}

    nsg = network_client.network_security_groups.begin_create_or_update(rg, "nsg", {"location": "westeurope",
        "properties": {"securityRules": [{"name": "https", "properties": rule(100)}]}}).result()
    assert [r.name for r in nsg.security_rules] == ["https"]
    assert len(nsg.default_security_rules) == 6
    same_other_direction = network_client.security_rules.begin_create_or_update(
        rg, "nsg", "out", {"properties": rule(100, "Outbound")}).result()
    assert same_other_direction.priority == 100
    assert _error(lambda: network_client.security_rules.begin_create_or_update(
        rg, "nsg", "dup", {"properties": rule(100)}).result()) == (400, "SecurityRuleConflict")
    assert _error(lambda: network_client.security_rules.begin_create_or_update(
        rg, "nsg", "low", {"properties": rule(99)}).result()) == (400, "SecurityRuleInvalidPriority")
    assert _error(lambda: network_client.security_rules.begin_create_or_update(
        rg, "nsg", "hi", {"properties": rule(4097)}).result()) == (400, "SecurityRuleInvalidPriority")
    assert _error(lambda: network_client.security_rules.begin_create_or_update(
        rg, "nsg", "port", {"properties": rule(200, port="70000")}).result()) == (
        400, "SecurityRuleInvalidPortRange")
    assert sorted(r.name for r in network_client.network_security_groups.get(rg, "nsg").security_rules) == [
        "https", "out"]


def test_private_endpoint_dns_and_subnet_in_use(emulator: Any, network_client: Any, rg: str,
                                                storage_account: Any) -> None:
    from azure.mgmt.privatedns import PrivateDnsManagementClient

    dns = emulator.mgmt_client(PrivateDnsManagementClient)
    vnet = network_client.virtual_networks.begin_create_or_update(rg, "vnet", _vnet(["10.0.0.0/16"], {
        "pe": {"addressPrefix": "10.0.1.0/24"}})).result()
    zone = dns.private_zones.begin_create_or_update(rg, "privatelink.blob.core.windows.net", {"location": "global"}
                                                    ).result()
    assert zone.location == "global" and zone.number_of_record_sets == 1
    link = dns.virtual_network_links.begin_create_or_update(rg, zone.name, "to-v", {
        "location": "global", "properties": {"virtualNetwork": {"id": vnet.id}, "registrationEnabled": False}}).result()
    assert link.virtual_network_link_state == "Completed"
    assert dns.private_zones.get(rg, zone.name).number_of_virtual_network_links == 1
    endpoint = network_client.private_endpoints.begin_create_or_update(rg, "pe-blob", {
        "location": "westeurope", "properties": {
            "subnet": {"id": vnet.subnets[0].id},
            "privateLinkServiceConnections": [{"name": "blob", "properties": {
                "privateLinkServiceId": storage_account.id, "groupIds": ["blob"]}}]}}).result()
    assert endpoint.custom_dns_configs[0].fqdn == f"{storage_account.name}.blob.core.windows.net"
    connection = endpoint.private_link_service_connections[0]
    assert connection.private_link_service_connection_state.status == "Approved"
    group = network_client.private_dns_zone_groups.begin_create_or_update(rg, "pe-blob", "default", {"properties": {
        "privateDnsZoneConfigs": [{"name": "blob", "properties": {"privateDnsZoneId": zone.id}}]}}).result()
    assert group.private_dns_zone_configs[0].record_sets[0].ip_addresses == endpoint.custom_dns_configs[0].ip_addresses
    assert _error(lambda: network_client.subnets.begin_delete(rg, "vnet", "pe").result()) == (
        400, "InUseSubnetCannotBeDeleted")
    assert _error(lambda: network_client.virtual_networks.begin_create_or_update(rg, "vnet", _vnet(["10.0.0.0/16"])
                                                                                 ).result()) == (
        400, "InUseSubnetCannotBeDeleted"), "a VNet PUT may not drop a subnet in use"
    assert _error(lambda: dns.private_zones.begin_delete(rg, zone.name).result())[0] == 409
    network_client.private_endpoints.begin_delete(rg, "pe-blob").result()
    network_client.subnets.begin_delete(rg, "vnet", "pe").result()


def test_private_endpoint_rules(network_client: Any, rg: str, storage_account: Any) -> None:
    vnet = network_client.virtual_networks.begin_create_or_update(rg, "vnet", _vnet(["10.0.0.0/16"], {
        "pe": {"addressPrefix": "10.0.1.0/24"},
        "delegated": {"addressPrefix": "10.0.2.0/24", "delegations": [
            {"name": "d", "properties": {"serviceName": "Microsoft.DBforPostgreSQL/flexibleServers"}}]}})).result()
    subnets = {s.name: s.id for s in vnet.subnets}

    def endpoint(subnet: str, group: str) -> Any:
        return network_client.private_endpoints.begin_create_or_update(rg, "pe", {
            "location": "westeurope", "properties": {"subnet": {"id": subnets[subnet]},
                                                     "privateLinkServiceConnections": [{"name": "c", "properties": {
                                                         "privateLinkServiceId": storage_account.id,
                                                         "groupIds": [group]}}]}}).result()

    assert _error(lambda: endpoint("pe", "vault")) == (400, "PrivateEndpointBadRequest")
    assert _error(lambda: endpoint("delegated", "blob")) == (
        400, "PrivateEndpointCannotBeCreatedInSubnetThatHasDelegations")


def test_flow_logs_refuse_nsg_targets_accept_vnet(network_client: Any, rg: str, storage_account: Any) -> None:
    nsg = network_client.network_security_groups.begin_create_or_update(rg, "nsg", {"location": "westeurope"}).result()
    vnet = network_client.virtual_networks.begin_create_or_update(rg, "vnet", _vnet(["10.0.0.0/16"])).result()
    network_client.network_watchers.create_or_update(rg, "nw", {"location": "westeurope"})
    assert _error(lambda: network_client.network_watchers.create_or_update(rg, "nw2", {"location": "westeurope"})) == (
        400, "NetworkWatcherCountLimitReached")

    def flow_log(target: str) -> Any:
        return network_client.flow_logs.begin_create_or_update(rg, "nw", "fl", {
            "location": "westeurope", "properties": {"targetResourceId": target, "storageId": storage_account.id,
                                                     "enabled": True, "retentionPolicy": {"days": 7,
                                                                                          "enabled": True}}}).result()

    assert _error(lambda: flow_log(nsg.id)) == (400, "NsgFlowLogCreationBlocked")
    created = flow_log(vnet.id)
    assert created.target_resource_id == vnet.id
    assert created.target_resource_guid == vnet.resource_guid
    assert created.format.type == "JSON" and created.format.version == 2


def test_private_dns_zone_name_and_link_rules(emulator: Any, network_client: Any, rg: str) -> None:
    from azure.mgmt.privatedns import PrivateDnsManagementClient

    dns = emulator.mgmt_client(PrivateDnsManagementClient)
    assert _error(lambda: dns.private_zones.begin_create_or_update(rg, "nodots", {"location": "global"}).result())[
        1] == "InvalidZoneName"
    assert _error(lambda: dns.private_zones.begin_create_or_update(rg, "a.example", {"location": "westeurope"}
                                                                   ).result())[0] == 400
    vnet = network_client.virtual_networks.begin_create_or_update(rg, "vnet", _vnet(["10.0.0.0/16"])).result()
    zone = dns.private_zones.begin_create_or_update(rg, "a.example", {"location": "global"}).result()
    body = {"location": "global", "properties": {"virtualNetwork": {"id": vnet.id}, "registrationEnabled": False}}
    dns.virtual_network_links.begin_create_or_update(rg, zone.name, "one", body).result()
    assert _error(lambda: dns.virtual_network_links.begin_create_or_update(rg, zone.name, "two", body).result())[0] == 409

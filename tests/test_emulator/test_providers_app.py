"""Container Apps environments through the ARM REST API: Azure's network rules (a delegated /27 or larger subnet of
its own for workload profiles, a /23 for consumption-only), internal and zone-redundant environments need a subnet,
the network and zone redundancy are fixed at creation, the generated default domain and static IP; the network
provider's side of the delegation (no private endpoint in a delegated subnet, no delegation of a subnet holding
one); private DNS A record sets."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.test_emulator.examples import self_signed

pytestmark = pytest.mark.emulator

APP_API = "2025-07-01"
NET_API = "2024-05-01"
DNS_API = "2024-06-01"
DELEGATED = [{"name": "Microsoft.App.environments", "properties": {"serviceName": "Microsoft.App/environments"}}]


def _rg_id(emulator: Any, rg: str) -> str:
    return f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}"


def _network(emulator: Any, rg: str, subnets: dict[str, dict[str, Any]]) -> str:
    """A VNet 10.0.0.0/16 with the given subnets; its ID."""
    vnet = f"{_rg_id(emulator, rg)}/providers/Microsoft.Network/virtualNetworks/vnet"
    status, body, _ = emulator.arm().call("PUT", f"{vnet}?api-version={NET_API}", {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}, "subnets": [
            {"name": name, "properties": props} for name, props in subnets.items()]}})
    assert status in (200, 201), body
    return vnet


def _environment(subnet_id: str | None = None, internal: bool = False, profiles: bool = True,
                 **props: Any) -> dict[str, Any]:
    properties: dict[str, Any] = {"appLogsConfiguration": {"destination": "azure-monitor"}, **props}
    if profiles:
        properties["workloadProfiles"] = [{"name": "Consumption", "workloadProfileType": "Consumption"}]
    if subnet_id:
        properties["vnetConfiguration"] = {"infrastructureSubnetId": subnet_id, "internal": internal}
    elif internal:
        properties["vnetConfiguration"] = {"internal": True}
    return {"location": "westeurope", "properties": properties}


def _env_url(emulator: Any, rg: str, name: str) -> str:
    return f"{_rg_id(emulator, rg)}/providers/Microsoft.App/managedEnvironments/{name}?api-version={APP_API}"


def test_internal_workload_profiles_environment_in_a_delegated_subnet(emulator: Any, rg: str,
                                                                      unique: Callable[[str], str]) -> None:
    vnet = _network(emulator, rg, {"apps": {"addressPrefix": "10.0.1.0/24", "delegations": DELEGATED}})
    url = _env_url(emulator, rg, unique("cae-"))
    status, body, _ = emulator.arm().call("PUT", url, _environment(f"{vnet}/subnets/apps", internal=True,
                                                                   zoneRedundant=True))
    assert status in (200, 201), body
    status, body, _ = emulator.arm().call("GET", url)
    props = body["properties"]
    assert props["provisioningState"] == "Succeeded"
    assert re.fullmatch(r"[a-z]+-[0-9a-f]{8}\.westeurope\.azurecontainerapps\.io", props["defaultDomain"])
    # An internal environment's load balancer takes an address of its subnet.
    assert ipaddress.ip_address(props["staticIp"]) in ipaddress.ip_network("10.0.1.0/24")
    assert props["zoneRedundant"] is True and props["publicNetworkAccess"] == "Disabled"
    # Written again unchanged: Azure keeps what it generated.
    status, again, _ = emulator.arm().call("PUT", url, _environment(f"{vnet}/subnets/apps", internal=True,
                                                                    zoneRedundant=True))
    assert status == 200, again
    assert (again["properties"]["defaultDomain"], again["properties"]["staticIp"]) == (
        props["defaultDomain"], props["staticIp"])


@pytest.mark.parametrize(("subnet", "profiles", "code"), [
    ({"addressPrefix": "10.0.1.0/24"}, True, "ManagedEnvironmentSubnetNotDelegated"),
    ({"addressPrefix": "10.0.1.0/28", "delegations": DELEGATED}, True, "ManagedEnvironmentSubnetTooSmall"),
    # Consumption-only (no workload profiles): a /23 at least, and not delegated.
    ({"addressPrefix": "10.0.2.0/24"}, False, "ManagedEnvironmentSubnetTooSmall"),
])
def test_subnets_azure_refuses_for_an_environment(emulator: Any, rg: str, unique: Callable[[str], str],
                                                  subnet: dict[str, Any], profiles: bool, code: str) -> None:
    vnet = _network(emulator, rg, {"apps": subnet})
    status, body, _ = emulator.arm().call("PUT", _env_url(emulator, rg, unique("cae-")),
                                          _environment(f"{vnet}/subnets/apps", profiles=profiles))
    assert status == 400 and body["error"]["code"] == code, body


@pytest.mark.parametrize("props", [{"zoneRedundant": True}, {}])
def test_internal_or_zone_redundant_needs_a_subnet(emulator: Any, rg: str, unique: Callable[[str], str],
                                                   props: dict[str, Any]) -> None:
    status, body, _ = emulator.arm().call("PUT", _env_url(emulator, rg, unique("cae-")),
                                          _environment(None, internal=not props, **props))
    assert status == 400 and body["error"]["code"] == "ManagedEnvironmentInvalidNetworkConfiguration", body


def test_network_and_zone_redundancy_are_fixed_at_creation(emulator: Any, rg: str,
                                                           unique: Callable[[str], str]) -> None:
    vnet = _network(emulator, rg, {"apps": {"addressPrefix": "10.0.1.0/24", "delegations": DELEGATED}})
    url = _env_url(emulator, rg, unique("cae-"))
    status, body, _ = emulator.arm().call("PUT", url, _environment(f"{vnet}/subnets/apps", internal=True))
    assert status in (200, 201), body
    status, body, _ = emulator.arm().call("PUT", url, _environment(f"{vnet}/subnets/apps", internal=False))
    assert status == 400 and body["error"]["code"] == "ManagedEnvironmentCannotChangeVnetConfiguration", body
    status, body, _ = emulator.arm().call("PUT", url, _environment(f"{vnet}/subnets/apps", internal=True,
                                                                   zoneRedundant=True))
    assert status == 400 and body["error"]["code"] == "ManagedEnvironmentCannotChangeZoneRedundancy", body


@pytest.mark.parametrize("name", ["Cae-upper", "a", "1cae", "cae-", "x" * 61])
def test_names_azure_refuses(emulator: Any, rg: str, name: str) -> None:
    status, body, _ = emulator.arm().call("PUT", _env_url(emulator, rg, name), _environment())
    assert status == 400 and body["error"]["code"] == "InvalidName", body


def test_log_analytics_needs_its_key_and_never_returns_it(emulator: Any, rg: str,
                                                          unique: Callable[[str], str]) -> None:
    url = _env_url(emulator, rg, unique("cae-"))
    logs = {"destination": "log-analytics", "logAnalyticsConfiguration": {"customerId": "c"}}
    status, body, _ = emulator.arm().call("PUT", url, _environment(appLogsConfiguration=logs))
    assert status == 400 and body["error"]["code"] == "InvalidLogAnalyticsConfiguration", body
    logs["logAnalyticsConfiguration"]["sharedKey"] = "s3cr3t-key"
    status, body, _ = emulator.arm().call("PUT", url, _environment(appLogsConfiguration=logs))
    assert status in (200, 201), body
    status, body, _ = emulator.arm().call("GET", url)
    assert "s3cr3t-key" not in str(body)


def test_a_delegated_subnet_takes_no_private_endpoint_and_a_subnet_with_one_is_not_delegated(
        emulator: Any, rg: str, unique: Callable[[str], str]) -> None:
    vnet = _network(emulator, rg, {"apps": {"addressPrefix": "10.0.1.0/24", "delegations": DELEGATED},
                                   "plain": {"addressPrefix": "10.0.2.0/24"}})
    vault = unique("kv")
    rg_id = _rg_id(emulator, rg)
    status, body, _ = emulator.arm().call(
        "PUT", f"{rg_id}/providers/Microsoft.KeyVault/vaults/{vault}?api-version=2023-07-01",
        {"location": "westeurope", "properties": {"tenantId": emulator.env["AZURE_TENANT_ID"], "accessPolicies": [],
                                                  "sku": {"family": "A", "name": "standard"}}})
    assert status in (200, 201), body

    def endpoint(subnet: str) -> tuple[int, Any]:
        status, body, _ = emulator.arm().call(
            "PUT", f"{rg_id}/providers/Microsoft.Network/privateEndpoints/pe-{subnet}?api-version={NET_API}",
            {"location": "westeurope", "properties": {"subnet": {"id": f"{vnet}/subnets/{subnet}"},
                                                      "privateLinkServiceConnections": [{"name": "c", "properties": {
                                                          "privateLinkServiceId": f"{rg_id}/providers/"
                                                          f"Microsoft.KeyVault/vaults/{vault}",
                                                          "groupIds": ["vault"]}}]}})
        return status, body

    status, body = endpoint("apps")
    assert status == 400 and body["error"]["code"] == "PrivateEndpointCannotBeCreatedInSubnetThatHasDelegations"
    status, body = endpoint("plain")
    assert status in (200, 201), body
    status, body, _ = emulator.arm().call("PUT", f"{vnet}/subnets/plain?api-version={NET_API}",
                                          {"properties": {"addressPrefix": "10.0.2.0/24", "delegations": DELEGATED}})
    assert status == 400 and body["error"]["code"] == "SubnetWithPrivateEndpointCannotBeDelegated", body
    # Once the endpoint is gone, the delegation is accepted.
    status, _, _ = emulator.arm().call(
        "DELETE", f"{rg_id}/providers/Microsoft.Network/privateEndpoints/pe-plain?api-version={NET_API}")
    assert status in (200, 202, 204)
    status, body, _ = emulator.arm().call("PUT", f"{vnet}/subnets/plain?api-version={NET_API}",
                                          {"properties": {"addressPrefix": "10.0.2.0/24", "delegations": DELEGATED}})
    assert status in (200, 201), body


def test_a_record_sets_of_a_private_zone(emulator: Any, rg: str) -> None:
    zone = f"{_rg_id(emulator, rg)}/providers/Microsoft.Network/privateDnsZones/calmsea-1.westeurope.example.io"
    status, body, _ = emulator.arm().call("PUT", f"{zone}?api-version={DNS_API}", {"location": "global"})
    assert status in (200, 201), body
    for name in ("*", "@"):
        status, body, _ = emulator.arm().call("PUT", f"{zone}/A/{name}?api-version={DNS_API}",
                                              {"properties": {"ttl": 3600, "aRecords": [{"ipv4Address": "10.0.1.4"}]}})
        assert status in (200, 201), body
    status, body, _ = emulator.arm().call("GET", f"{zone}/A/*?api-version={DNS_API}")
    assert body["properties"]["fqdn"] == "*.calmsea-1.westeurope.example.io."
    assert body["properties"]["aRecords"] == [{"ipv4Address": "10.0.1.4"}]
    status, body, _ = emulator.arm().call("GET", f"{zone}?api-version={DNS_API}")
    assert body["properties"]["numberOfRecordSets"] == 3
    status, body, _ = emulator.arm().call("PUT", f"{zone}/A/www?api-version={DNS_API}",
                                          {"properties": {"aRecords": [{"ipv4Address": "10.0.1"}]}})
    assert status == 400 and body["error"]["code"] == "InvalidIPv4Address", body


def test_a_request_shaped_like_microsofts_create_example_is_accepted_and_its_secrets_not_returned(
        emulator: Any, rg: str, unique: Callable[[str], str]) -> None:
    """The shape of ManagedEnvironments_CreateOrUpdate (azure-rest-api-specs, 2025-07-01): dedicated and Consumption
    profiles under their own names, Log Analytics without an explicit destination, a custom domain with its
    certificate, zone redundancy in a /23; secrets Azure takes and never returns."""
    vnet = _network(emulator, rg, {"apps": {"addressPrefix": "10.0.0.0/23", "delegations": DELEGATED}})
    url = _env_url(emulator, rg, unique("cae-"))
    pfx, _ = self_signed("apps.example.org", "cert-secret")
    request = {"location": "West Europe", "properties": {
        "appLogsConfiguration": {"logAnalyticsConfiguration": {"customerId": "workspace-id", "sharedKey": "wk-secret"}},
        "daprAIConnectionString": "InstrumentationKey=dapr-secret",
        "zoneRedundant": True, "vnetConfiguration": {"infrastructureSubnetId": f"{vnet}/subnets/apps"},
        "customDomainConfiguration": {"dnsSuffix": "apps.example.org", "certificateValue": pfx,
                                      "certificatePassword": "cert-secret"},
        "workloadProfiles": [
            {"name": "gp-1", "workloadProfileType": "GeneralPurpose", "minimumCount": 3, "maximumCount": 12},
            {"name": "mo-1", "workloadProfileType": "MemoryOptimized", "minimumCount": 3, "maximumCount": 6},
            {"name": "serverless", "workloadProfileType": "Consumption"}],
        "peerAuthentication": {"mtls": {"enabled": True}},
        "peerTrafficConfiguration": {"encryption": {"enabled": True}}}}
    status, body, _ = emulator.arm().call("PUT", url, request)
    assert status in (200, 201), body
    status, body, _ = emulator.arm().call("GET", url)
    props = body["properties"]
    assert props["customDomainConfiguration"]["subjectName"] == "CN=apps.example.org"
    assert [p["name"] for p in props["workloadProfiles"]] == ["gp-1", "mo-1", "serverless"]
    for secret in ("wk-secret", "dapr-secret", "cert-secret", pfx):
        assert secret not in str(body)
    # A certificate its password does not open is refused.
    request["properties"]["customDomainConfiguration"]["certificatePassword"] = "not-the-password"
    status, body, _ = emulator.arm().call("PUT", _env_url(emulator, rg, unique("cae-")), request)
    assert status == 400 and body["error"]["code"] == "InvalidCertificate", body
    # A dedicated profile without node counts, or two Consumption profiles, are refused.
    for profiles in ([{"name": "gp", "workloadProfileType": "GeneralPurpose"}],
                     [{"name": "a", "workloadProfileType": "Consumption"},
                      {"name": "b", "workloadProfileType": "Consumption"}]):
        status, body, _ = emulator.arm().call("PUT", _env_url(emulator, rg, unique("cae-")),
                                              {"location": "westeurope", "properties": {"workloadProfiles": profiles}})
        assert status == 400 and body["error"]["code"] == "InvalidWorkloadProfile", body

"""Container registries and Defender for Cloud plans through the ARM REST API: Azure's SKU capabilities (retention,
private link, zone redundancy, network access are Premium), global DNS names, read-only fields, and the plans a
subscription always has."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.emulator

ACR_API = "2025-04-01"
PRICING_API = "2024-01-01"


def _registry(sku: str = "Standard", **props: Any) -> dict[str, Any]:
    return {"location": "westeurope", "sku": {"name": sku},
            "properties": {"adminUserEnabled": False, "anonymousPullEnabled": False, **props}}


def _path(emulator: Any, rg: str, name: str) -> str:
    return (f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}/providers/"
            f"Microsoft.ContainerRegistry/registries/{name}?api-version={ACR_API}")


def test_standard_registry_is_created_with_azure_defaults_and_read_back(emulator: Any, rg: str,
                                                                         unique: Callable[[str], str]) -> None:
    name = unique("crstd")
    status, body, _ = emulator.arm().call("PUT", _path(emulator, rg, name), _registry())
    assert status in (200, 201), body
    status, body, _ = emulator.arm().call("GET", _path(emulator, rg, name))
    assert status == 200
    props = body["properties"]
    assert body["sku"] == {"name": "Standard", "tier": "Standard"}
    assert props["loginServer"] == f"{name}.azurecr.io"
    assert props["adminUserEnabled"] is False and props["anonymousPullEnabled"] is False
    assert props["publicNetworkAccess"] == "Enabled" and props["zoneRedundancy"] == "Disabled"
    assert props["policies"]["retentionPolicy"]["status"] == "disabled"
    assert props["provisioningState"] == "Succeeded"


@pytest.mark.parametrize(("props", "feature"), [
    ({"policies": {"retentionPolicy": {"status": "enabled", "days": 7}}}, "retention policy"),
    ({"publicNetworkAccess": "Disabled"}, "public network access"),
    ({"zoneRedundancy": "Enabled"}, "Zone redundancy"),
    ({"dataEndpointEnabled": True}, "data endpoints"),
])
def test_premium_capabilities_are_refused_on_standard(emulator: Any, rg: str, unique: Callable[[str], str],
                                                      props: dict[str, Any], feature: str) -> None:
    status, body, _ = emulator.arm().call("PUT", _path(emulator, rg, unique("crrefused")), _registry(**props))
    assert status == 400, body
    assert body["error"]["code"] == "FeatureNotSupportedForSku" and feature in body["error"]["message"]


def test_premium_registry_keeps_retention_zone_redundancy_and_closed_network(emulator: Any, rg: str,
                                                                             unique: Callable[[str], str]) -> None:
    name = unique("crprem")
    body = _registry("Premium", publicNetworkAccess="Disabled", zoneRedundancy="Enabled",
                     policies={"retentionPolicy": {"status": "enabled", "days": 30}})
    status, created, _ = emulator.arm().call("PUT", _path(emulator, rg, name), body)
    assert status in (200, 201), created
    retention = created["properties"]["policies"]["retentionPolicy"]
    assert (retention["status"], retention["days"]) == ("enabled", 30) and retention["lastUpdatedTime"]
    # Zone redundancy is chosen at creation.
    changed = _registry("Premium", publicNetworkAccess="Disabled", zoneRedundancy="Disabled")
    status, refused, _ = emulator.arm().call("PUT", _path(emulator, rg, name), changed)
    assert status == 400 and refused["error"]["code"] == "CannotChangeZoneRedundancy"
    # Retention beyond a year is refused.
    longer = {**body, "properties": {**body["properties"], "policies": {"retentionPolicy": {"status": "enabled",
                                                                                            "days": 400}}}}
    status, refused, _ = emulator.arm().call("PUT", _path(emulator, rg, name), longer)
    assert status == 400 and refused["error"]["code"] == "InvalidRetentionDays"


def test_registry_names_are_alphanumeric_and_globally_unique(emulator: Any, rg: str, resource_client: Any,
                                                             unique: Callable[[str], str]) -> None:
    status, body, _ = emulator.arm().call("PUT", _path(emulator, rg, "cr-with-hyphens"), _registry())
    assert status == 400 and body["error"]["code"] == "InvalidRegistryName"
    name = unique("crglobal")
    assert emulator.arm().call("PUT", _path(emulator, rg, name), _registry())[0] in (200, 201)
    other = unique("rg-other-")
    resource_client.resource_groups.create_or_update(other, {"location": "westeurope"})
    status, body, _ = emulator.arm().call("PUT", _path(emulator, other, name), _registry())
    assert status == 409 and body["error"]["code"] == "AlreadyInUse"
    check = (f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/providers/Microsoft.ContainerRegistry/"
             f"checkNameAvailability?api-version={ACR_API}")
    status, answer, _ = emulator.arm().call("POST", check, {"name": name, "type": "Microsoft.ContainerRegistry/registries"})
    assert status == 200 and answer["nameAvailable"] is False and answer["reason"] == "AlreadyExists"


def test_private_endpoint_needs_a_premium_registry(emulator: Any, rg: str, network_client: Any,
                                                   unique: Callable[[str], str]) -> None:
    vnet = unique("vnet-acr-")
    network_client.virtual_networks.begin_create_or_update(rg, vnet, {
        "location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.90.0.0/16"]},
                                                 "subnets": [{"name": "pe",
                                                              "properties": {"addressPrefix": "10.90.1.0/24"}}]}}
    ).result()
    subnet_id = network_client.subnets.get(rg, vnet, "pe").id
    for sku, expected in (("Standard", 400), ("Premium", 200)):
        name = unique(f"crpe{sku.lower()}")
        assert emulator.arm().call("PUT", _path(emulator, rg, name), _registry(sku))[0] in (200, 201)
        registry_id = _path(emulator, rg, name).split("?")[0]
        endpoint = (f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/resourceGroups/{rg}/providers/"
                    f"Microsoft.Network/privateEndpoints/pe-{name}?api-version=2024-05-01")
        status, body, _ = emulator.arm().call("PUT", endpoint, {
            "location": "westeurope", "properties": {"subnet": {"id": subnet_id}, "privateLinkServiceConnections": [
                {"name": "acr", "properties": {"privateLinkServiceId": registry_id, "groupIds": ["registry"]}}]}})
        assert status in (expected, 201 if expected == 200 else expected), body
        if expected == 200:
            assert body["properties"]["customDnsConfigs"][0]["fqdn"] == f"{name}.azurecr.io"


def test_defender_plans_exist_on_free_and_containers_turns_standard(emulator: Any) -> None:
    path = (f"/subscriptions/{emulator.env['AZURE_SUBSCRIPTION_ID']}/providers/Microsoft.Security/pricings/"
            f"Containers?api-version={PRICING_API}")
    status, body, _ = emulator.arm().call("GET", path)
    assert status == 200 and body["properties"]["pricingTier"] in ("Free", "Standard")
    extension = {"name": "ContainerRegistriesVulnerabilityAssessments", "isEnabled": "True"}
    status, body, _ = emulator.arm().call("PUT", path, {"properties": {"pricingTier": "Standard",
                                                                        "extensions": [extension]}})
    assert status == 200, body
    status, body, _ = emulator.arm().call("GET", path)
    assert body["properties"]["pricingTier"] == "Standard" and body["properties"]["enablementTime"]
    assert body["properties"]["extensions"][0]["name"] == extension["name"]
    # Extensions need the Standard tier; a plan cannot be deleted, only set back to Free.
    status, body, _ = emulator.arm().call("PUT", path, {"properties": {"pricingTier": "Free",
                                                                        "extensions": [extension]}})
    assert status == 400
    assert emulator.arm().call("DELETE", path)[0] == 405
    unknown = path.replace("/Containers?", "/NotAPlan?")
    assert emulator.arm().call("GET", unknown)[0] == 404
    assert emulator.arm().call("PUT", unknown, {"properties": {"pricingTier": "Standard"}})[0] == 400

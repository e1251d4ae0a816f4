"""Microsoft.ContainerRegistry/registries: Azure Container Registry, name checks, SKU capabilities.

Written from the Container Registry management REST spec (Azure/azure-rest-api-specs, containerregistry.json
2025-04-01) and the Azure Container Registry documentation (service tiers, retention policy for untagged manifests,
anonymous pull, private link, zone redundancy).

Modelled, as Azure does it:
- Registry names are global DNS names (``<name>.azurecr.io``): 5-50 letters and digits only; a taken name is
  refused. The login server is the lower-cased name.
- SKUs Basic, Standard, Premium (Classic is retired). Only Premium has: the retention policy for untagged
  manifests (0-365 days), private endpoints and network rules (so ``publicNetworkAccess: Disabled``), zone
  redundancy, the export and quarantine policies' non-default values, dedicated data endpoints. Anonymous pull is
  a Standard and Premium feature.
- Zone redundancy is fixed at creation.
- Create and update are long-running (Azure-AsyncOperation); delete answers 200/202/204.
- Read-only fields Azure fills in: loginServer, creationDate, status, dataEndpointHostNames,
  privateEndpointConnections, the policies' defaults (retention 7 days disabled, export enabled, ...).

Known gaps: replications, webhooks, tokens, scope maps, cache rules, tasks, the registry's data plane (pushing and
pulling images) and the admin credentials (listCredentials) are not modelled.
"""

from __future__ import annotations

import re
from typing import Any

from ..framework import (
    ActionResult,
    ArmError,
    Ctx,
    Lro,
    NameRule,
    OpStyle,
    ResourceType,
    WriteRequest,
    fill_defaults,
)

REGISTRIES = "Microsoft.ContainerRegistry/registries"
NAME_HINT = "Registry names may contain only alpha numeric characters and must be between 5 and 50 characters."
SKUS = ("Basic", "Standard", "Premium")


def _premium_only(feature: str, sku: str) -> ArmError:
    return ArmError(400, "FeatureNotSupportedForSku",
                    f"{feature} is only supported by the Premium service tier; the registry's SKU is '{sku}'.")


class Registries(ResourceType):
    type = REGISTRIES
    name_rule = NameRule(5, 50, r"[A-Za-z0-9]+", NAME_HINT, code="InvalidRegistryName")
    global_name = True
    name_taken_code = "AlreadyInUse"
    name_taken_message = "The registry DNS name {name}.azurecr.io is already in use."
    # Registries_Create 200/201, Registries_Update (PATCH) 200/201, Registries_Delete 200/202/204.
    put = OpStyle(Lro.AZURE_ASYNC, done=200, pending=200, created_done=200, created_pending=201)
    patch = OpStyle(Lro.AZURE_ASYNC, done=200, pending=201)
    delete = OpStyle(Lro.LOCATION, done=200, pending=202, missing=204)
    latency_s = 60.0
    read_only_properties = ("loginServer", "creationDate", "status", "dataEndpointHostNames",
                            "privateEndpointConnections")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        sku = str((req.body.get("sku") or {}).get("name") or "")
        if sku not in SKUS:
            raise ArmError(400, "InvalidSku" if sku else "MissingRequiredProperty",
                           f"The SKU '{sku}' is not valid; allowed values: {', '.join(SKUS)}." if sku
                           else "The 'sku' property is required.")
        props = req.properties
        policies = props.get("policies") or {}
        retention = policies.get("retentionPolicy") or {}
        if str(retention.get("status", "disabled")).lower() == "enabled" and sku != "Premium":
            raise _premium_only("The retention policy for untagged manifests", sku)
        days = retention.get("days")
        if days is not None and (not isinstance(days, int) or not 0 <= days <= 365):
            raise ArmError(400, "InvalidRetentionDays", "The retention policy's days must be between 0 and 365.")
        if str((policies.get("quarantinePolicy") or {}).get("status", "disabled")).lower() == "enabled" \
                and sku != "Premium":
            raise _premium_only("The quarantine policy", sku)
        if str((policies.get("exportPolicy") or {}).get("status", "enabled")).lower() == "disabled" \
                and sku != "Premium":
            raise _premium_only("Disabling export", sku)
        if props.get("publicNetworkAccess") == "Disabled" and sku != "Premium":
            raise _premium_only("Disabling public network access", sku)
        rules = props.get("networkRuleSet") or {}
        if (rules.get("ipRules") or str(rules.get("defaultAction", "Allow")) == "Deny") and sku != "Premium":
            raise _premium_only("Network rules", sku)
        if props.get("dataEndpointEnabled") and sku != "Premium":
            raise _premium_only("Dedicated data endpoints", sku)
        zone = str(props.get("zoneRedundancy") or "Disabled")
        if zone not in ("Enabled", "Disabled"):
            raise ArmError(400, "InvalidRequestPropertyValue",
                           f"The value '{zone}' is not valid for property 'zoneRedundancy': Enabled or Disabled.")
        if zone == "Enabled" and sku != "Premium":
            raise _premium_only("Zone redundancy", sku)
        if req.existing is not None:
            before = str(req.existing.properties.get("zoneRedundancy") or "Disabled")
            if "zoneRedundancy" in props and zone != before:
                raise ArmError(400, "CannotChangeZoneRedundancy",
                               "Zone redundancy can only be set when the registry is created.")
        if props.get("anonymousPullEnabled") and sku == "Basic":
            raise ArmError(400, "FeatureNotSupportedForSku",
                           "Anonymous pull is supported by the Standard and Premium service tiers only.")
        if req.existing is not None and sku != "Premium":
            # Downgrading from Premium keeps Premium-only settings: Azure refuses until they are removed.
            stored = req.existing.properties
            stored_retention = (stored.get("policies") or {}).get("retentionPolicy") or {}
            if str(stored_retention.get("status") or "disabled").lower() == "enabled" \
                    and "retentionPolicy" not in policies:
                raise _premium_only("The retention policy for untagged manifests", sku)
            if str(stored.get("zoneRedundancy") or "Disabled") == "Enabled":
                raise _premium_only("Zone redundancy", sku)

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        sku = body["sku"]["name"]
        body["sku"] = {"name": sku, "tier": sku}
        previous = req.existing.properties if req.existing else {}
        fill_defaults(props, {
            "adminUserEnabled": False,
            "anonymousPullEnabled": False,
            "dataEndpointEnabled": False,
            "publicNetworkAccess": "Enabled",
            "networkRuleBypassOptions": "AzureServices",
            "zoneRedundancy": "Disabled",
            "encryption": {"status": "disabled"},
            "policies": {},
        })
        before = (previous.get("policies") or {}).get("retentionPolicy") or {}
        retention = {"days": 7, "status": "disabled", **(props["policies"].get("retentionPolicy") or {})}
        retention.pop("lastUpdatedTime", None)
        same = before and all(before.get(k) == retention[k] for k in ("days", "status"))
        retention["lastUpdatedTime"] = before["lastUpdatedTime"] if same else ctx.now()
        props["policies"]["retentionPolicy"] = retention
        fill_defaults(props["policies"], {
            "quarantinePolicy": {"status": "disabled"},
            "trustPolicy": {"type": "Notary", "status": "disabled"},
            "exportPolicy": {"status": "enabled"},
            "azureADAuthenticationAsArmPolicy": {"status": "enabled"},
        })
        if sku == "Premium":
            fill_defaults(props, {"networkRuleSet": {"defaultAction": "Allow", "ipRules": []}})
        props["loginServer"] = f"{req.name.lower()}.azurecr.io"
        props["creationDate"] = previous.get("creationDate", ctx.now())
        props["status"] = previous.get("status") or {"displayStatus": "Available", "timestamp": ctx.now()}
        props["dataEndpointHostNames"] = (
            [f"{req.name.lower()}.{body['location']}.data.azurecr.io"] if props.get("dataEndpointEnabled") else [])
        props["privateEndpointConnections"] = previous.get("privateEndpointConnections", [])
        return body


def check_name_availability(ctx: Ctx, scope: str, body: dict[str, Any]) -> ActionResult:
    name = str((body or {}).get("name", ""))
    if str((body or {}).get("type", REGISTRIES)).lower() != REGISTRIES.lower():
        raise ArmError(400, "InvalidResourceType", f"The resource type '{body.get('type')}' is not supported.")
    if not re.fullmatch(r"[A-Za-z0-9]{5,50}", name):
        return ActionResult(200, {"nameAvailable": False, "reason": "Invalid", "message": NAME_HINT})
    if ctx.find(REGISTRIES, name=name):
        return ActionResult(200, {"nameAvailable": False, "reason": "AlreadyExists",
                                  "message": f"The registry {name} already exists."})
    return ActionResult(200, {"nameAvailable": True})


RESOURCE_TYPES: list[ResourceType] = [Registries()]
PROVIDER_ACTIONS = {"Microsoft.ContainerRegistry/checkNameAvailability": check_name_availability}

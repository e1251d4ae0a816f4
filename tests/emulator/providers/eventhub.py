"""Microsoft.EventHub: namespaces, event hubs, consumer groups, SAS authorization rules (namespace and hub level,
listKeys/regenerateKeys) and the namespace network rule set.

Written from the Event Hubs management REST spec (Azure/azure-rest-api-specs, EventHub 2026-01-01 and its
examples) and the Event Hubs quotas documentation. Modelled, as Azure does it:

- Namespace names are global DNS names (``<name>.servicebus.windows.net``): 6-50 letters, digits and hyphens,
  starting with a letter, ending with a letter or digit, not ending in ``-sb`` or ``-mgmt``. A taken name
  answers 400 ``BadRequest`` "The specified name is not available".
- Tier limits: Basic retention 1 day, 1 consumer group ($Default), no capture, no IP/VNet rules; Standard
  retention 7 days, 20 consumer groups per hub, auto-inflate up to 40 throughput units; Premium retention 90
  days, 100 partitions, 100 consumer groups, processing units 1/2/4/8/16. 32 partitions per hub below
  Premium, 10 event hubs per Basic/Standard namespace. Partition counts cannot be decreased (nor changed
  below Premium).
- A new namespace has the ``RootManageSharedAccessKey`` rule and the ``default`` network rule set; a new hub
  has the ``$Default`` consumer group (which cannot be deleted).
- listKeys answers real-looking connection strings (``Endpoint=sb://<ns>.servicebus.windows.net/;
  SharedAccessKeyName=...;SharedAccessKey=...`` plus ``;EntityPath=<hub>`` at hub level) with 44-character keys.

Known gaps: geo-disaster recovery aliases, schema groups, application groups, clusters, private endpoint
connections and the data plane (sending/receiving events) are not modelled.
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
    Resource,
    ResourceType,
    WriteRequest,
    fill_defaults,
)

NAMESPACES = "Microsoft.EventHub/namespaces"
HUBS = f"{NAMESPACES}/eventhubs"
GROUPS = f"{HUBS}/consumergroups"
NS_RULES = f"{NAMESPACES}/authorizationRules"
HUB_RULES = f"{HUBS}/authorizationRules"
NETWORK_RULES = f"{NAMESPACES}/networkRuleSets"
ROOT_RULE = "RootManageSharedAccessKey"
DEFAULT_GROUP = "$Default"
SYNC_200 = OpStyle(Lro.NONE, done=200, created_done=200)
SYNC_DELETE = OpStyle(Lro.NONE, done=200, missing=204)

# Per-tier quotas (Event Hubs quotas and limits documentation).
LIMITS: dict[str, dict[str, int]] = {
    "Basic": {"retention_days": 1, "partitions": 32, "consumer_groups": 1, "hubs": 10, "rules": 12},
    "Standard": {"retention_days": 7, "partitions": 32, "consumer_groups": 20, "hubs": 10, "rules": 12},
    "Premium": {"retention_days": 90, "partitions": 100, "consumer_groups": 100, "hubs": 100, "rules": 12},
}
PREMIUM_UNITS = (1, 2, 4, 8, 16)
NAME_HINT = ("The namespace name can contain only letters, numbers and hyphens, must start with a letter, end with "
             "a letter or number, be 6-50 characters long and not end with '-sb' or '-mgmt'.")
NAMESPACE_PATTERN = r"(?!.*-(?:sb|mgmt)$)[A-Za-z][A-Za-z0-9-]*[A-Za-z0-9]"
ENTITY_PATTERN = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"


def _bad(message: str) -> ArmError:
    return ArmError(400, "BadRequest", message)


def _tier(namespace: Resource | None) -> str:
    if namespace is None:
        return "Standard"
    return str((namespace.body.get("sku") or {}).get("name", "Standard"))


class _BadRequestName(NameRule):
    def check(self, name: str, type_name: str) -> None:
        if self.min_len <= len(name) <= self.max_len and re.fullmatch(self.pattern, name):
            return
        raise _bad(f"The specified name '{name}' is not valid for {type_name.rsplit('/', 1)[-1]}. {self.hint}")


class Namespaces(ResourceType):
    type = NAMESPACES
    name_rule = _BadRequestName(6, 50, NAMESPACE_PATTERN, NAME_HINT)
    global_name = True
    name_taken_status = 400
    name_taken_code = "BadRequest"
    name_taken_message = ("The specified name is not available. For more information visit "
                          "https://aka.ms/eventhubsarmexceptions.")
    # Namespaces_CreateOrUpdate / Update: 200/201/202 with Azure-AsyncOperation; Delete: 200/202/204.
    put = OpStyle(Lro.AZURE_ASYNC, done=200, pending=200, created_done=201, created_pending=201)
    patch = OpStyle(Lro.AZURE_ASYNC, done=200, pending=200)
    delete = OpStyle(Lro.BOTH, done=200, pending=202, missing=204)
    latency_s = 120.0
    pending_state = {"create": "Created", "update": "Updating", "delete": "Deleting"}
    read_only_properties = ("createdAt", "updatedAt", "serviceBusEndpoint", "metricId", "status",
                            "privateEndpointConnections")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        sku = req.body.get("sku") or {"name": "Standard"}
        tier = sku.get("name")
        if tier not in LIMITS:
            raise _bad(f"The SKU name '{tier}' is not valid. Allowed values: Basic, Standard, Premium.")
        if sku.get("tier") not in (None, tier):
            raise _bad(f"The SKU tier '{sku.get('tier')}' does not match the SKU name '{tier}'.")
        capacity = sku.get("capacity", 1)
        if tier == "Premium":
            if capacity not in PREMIUM_UNITS:
                raise _bad(f"The capacity {capacity} is not valid for the Premium tier: processing units must be one "
                           f"of {', '.join(str(u) for u in PREMIUM_UNITS)}.")
        elif not isinstance(capacity, int) or not 1 <= capacity <= 40:
            raise _bad(f"The capacity {capacity} is not valid: throughput units must be between 1 and 40.")
        props = req.properties
        inflate = bool(props.get("isAutoInflateEnabled"))
        maximum = props.get("maximumThroughputUnits", 0) or 0
        if inflate and tier != "Standard":
            raise _bad(f"Auto-inflate is not supported in the {tier} tier; it is only available in Standard.")
        if inflate and not (isinstance(maximum, int) and capacity <= maximum <= 40):
            raise _bad("MaximumThroughputUnits must be between the namespace capacity and 40 when auto-inflate is "
                       "enabled.")
        if not inflate and maximum:
            raise _bad("MaximumThroughputUnits can only be set when auto-inflate (isAutoInflateEnabled) is enabled.")
        tls = props.get("minimumTlsVersion")
        if tls is not None and tls not in ("1.0", "1.1", "1.2"):
            raise _bad(f"The minimum TLS version '{tls}' is not valid. Allowed values: 1.0, 1.1, 1.2.")
        if req.existing is not None:
            old = _tier(req.existing)
            if old != tier and "Premium" in (old, tier):
                raise _bad(f"The namespace cannot be changed from the {old} tier to the {tier} tier; migrating to or "
                           "from Premium is a separate operation.")
            if old == "Standard" and tier == "Basic":
                hubs = ctx.children(req.id, HUBS)
                if any(len(ctx.children(h.id, GROUPS)) > 1 for h in hubs):
                    raise _bad("The namespace cannot be downgraded to Basic while an event hub has consumer groups "
                               "other than $Default.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        sku = req.body.get("sku") or {"name": "Standard"}
        tier = sku["name"]
        body["sku"] = {"name": tier, "tier": tier, "capacity": sku.get("capacity", 1)}
        props = body["properties"]
        previous = req.existing.properties if req.existing else {}
        now = ctx.now()
        fill_defaults(props, {
            "disableLocalAuth": False,
            "isAutoInflateEnabled": False,
            "maximumThroughputUnits": 0,
            "minimumTlsVersion": "1.2",
            "publicNetworkAccess": "Enabled",
            "zoneRedundant": False,
        })
        props["kafkaEnabled"] = tier != "Basic"
        props["createdAt"] = previous.get("createdAt", now)
        props["updatedAt"] = now
        props["serviceBusEndpoint"] = f"https://{req.name}.servicebus.windows.net:443/"
        props["metricId"] = f"{(req.id.split('/')[2])}:{req.name.lower()}"
        props["status"] = "Active"
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        if not req.is_create:
            return
        rule_id = f"{resource.id}/authorizationRules/{ROOT_RULE}"
        ctx.put_record(rule_id, NS_RULES, {"id": rule_id, "name": ROOT_RULE,
                                           "type": "Microsoft.EventHub/Namespaces/AuthorizationRules",
                                           "properties": {"rights": ["Listen", "Manage", "Send"]}},
                       internal=_new_keys(ctx))
        rules_id = f"{resource.id}/networkRuleSets/default"
        ctx.put_record(rules_id, NETWORK_RULES, {
            "id": rules_id, "name": "default", "type": "Microsoft.EventHub/Namespaces/NetworkRuleSets",
            "location": resource.location,
            "properties": {"defaultAction": "Allow", "publicNetworkAccess": "Enabled", "ipRules": [],
                           "virtualNetworkRules": [], "trustedServiceAccessEnabled": False}})


class EventHubs(ResourceType):
    type = HUBS
    name_rule = _BadRequestName(1, 256, ENTITY_PATTERN, "Event hub names use letters, numbers, periods, hyphens and "
                                "underscores, start and end with a letter or number (1-256 characters).")
    location = "none"
    tags = False
    put = SYNC_200
    patch = None
    delete = SYNC_DELETE
    read_only_properties = ("createdAt", "updatedAt", "partitionIds", "identifier")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        namespace = req.parent
        tier = _tier(namespace)
        limits = LIMITS[tier]
        props = req.properties
        partitions = props.get("partitionCount", 4 if req.is_create else None)
        if partitions is not None and (not isinstance(partitions, int)
                                       or not 1 <= partitions <= limits["partitions"]):
            raise _bad(f"The value {partitions} for 'partitionCount' is not valid in the {tier} tier: it must be "
                       f"between 1 and {limits['partitions']}.")
        if req.existing is not None and partitions is not None:
            old = int(req.existing.properties.get("partitionCount", partitions))
            if partitions < old:
                raise _bad(f"The partition count of event hub '{req.name}' cannot be decreased (from {old} to "
                           f"{partitions}).")
            if partitions != old and tier != "Premium":
                raise _bad(f"The partition count of an event hub cannot be changed in the {tier} tier; only Premium "
                           "and Dedicated event hubs can add partitions.")
        days = self._retention_days(props)
        if days is not None and (not isinstance(days, int) or not 1 <= days <= limits["retention_days"]):
            raise _bad(f"The value supplied for MessageRetentionInDays ({days}) is not valid for the {tier} tier. "
                       f"The maximum allowed value is {limits['retention_days']}.")
        if (props.get("captureDescription") or {}).get("enabled") and tier == "Basic":
            raise _bad("Capture is not supported in the Basic tier.")
        if req.is_create and namespace is not None:
            count = len(ctx.children(namespace.id, HUBS))
            if count >= limits["hubs"]:
                raise ArmError(400, "QuotaExceeded", f"The maximum number of event hubs ({limits['hubs']}) for a "
                               f"{tier} namespace has been reached.")

    @staticmethod
    def _retention_days(props: dict[str, Any]) -> Any:
        if props.get("messageRetentionInDays") is not None:
            return props["messageRetentionInDays"]
        hours = (props.get("retentionDescription") or {}).get("retentionTimeInHours")
        if isinstance(hours, int):
            return max(1, -(-hours // 24))
        return hours

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        body["type"] = "Microsoft.EventHub/Namespaces/EventHubs"
        props = body["properties"]
        previous = req.existing.properties if req.existing else {}
        tier = _tier(req.parent)
        days = self._retention_days(props)
        if days is None:
            days = previous.get("messageRetentionInDays", min(7, LIMITS[tier]["retention_days"]))
        props["messageRetentionInDays"] = days
        retention = props.setdefault("retentionDescription", {})
        retention.setdefault("cleanupPolicy", "Delete")
        retention["retentionTimeInHours"] = retention.get("retentionTimeInHours") or days * 24
        partitions = int(props.get("partitionCount") or previous.get("partitionCount") or 4)
        props["partitionCount"] = partitions
        props["partitionIds"] = [str(i) for i in range(partitions)]
        fill_defaults(props, {"status": "Active", "messageTimestampDescription": {"timestampType": "LogAppend"}})
        now = ctx.now()
        props["createdAt"] = previous.get("createdAt", now)
        props["updatedAt"] = now
        props["identifier"] = previous.get("identifier") or ctx.new_guid()
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        if req.is_create:
            group_id = f"{resource.id}/consumergroups/{DEFAULT_GROUP}"
            now = ctx.now()
            ctx.put_record(group_id, GROUPS, {
                "id": group_id, "name": DEFAULT_GROUP, "type": "Microsoft.EventHub/Namespaces/EventHubs/ConsumerGroups",
                "properties": {"createdAt": now, "updatedAt": now}})


class ConsumerGroups(ResourceType):
    type = GROUPS
    name_rule = _BadRequestName(1, 50, r"[A-Za-z0-9$][A-Za-z0-9._$-]*", "Consumer group names use letters, numbers, "
                                "periods, hyphens, underscores and '$' (1-50 characters).")
    location = "none"
    tags = False
    put = SYNC_200
    patch = None
    delete = SYNC_DELETE
    read_only_properties = ("createdAt", "updatedAt")

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        if not req.is_create:
            return
        hub = req.parent
        namespace = ctx.get(hub.parent_id) if hub else None
        tier = _tier(namespace)
        if tier == "Basic":
            raise _bad("The Basic tier supports only the $Default consumer group; upgrade the namespace to Standard "
                       "to create consumer groups.")
        limit = LIMITS[tier]["consumer_groups"]
        if hub is not None and len(ctx.children(hub.id, GROUPS)) >= limit:
            raise ArmError(400, "QuotaExceeded", f"The maximum number of consumer groups ({limit}) per event hub in "
                           f"the {tier} tier has been reached.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        body["type"] = "Microsoft.EventHub/Namespaces/EventHubs/ConsumerGroups"
        previous = req.existing.properties if req.existing else {}
        now = ctx.now()
        body["properties"]["createdAt"] = previous.get("createdAt", now)
        body["properties"]["updatedAt"] = now
        return body

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        if resource.name == DEFAULT_GROUP:
            raise _bad("The $Default consumer group cannot be deleted.")


def _new_keys(ctx: Ctx) -> dict[str, Any]:
    return {"primaryKey": ctx.new_key(32), "secondaryKey": ctx.new_key(32)}


class _AuthorizationRules(ResourceType):
    name_rule = _BadRequestName(1, 256, r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?",
                                "Authorization rule names use letters, numbers, periods, hyphens and underscores, "
                                "start and end with a letter or number (1-256 characters).")
    location = "none"
    tags = False
    put = SYNC_200
    patch = None
    delete = SYNC_DELETE
    actions = {"listKeys": "list_keys", "regenerateKeys": "regenerate_keys"}
    answer_type = ""

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        rights = req.properties.get("rights")
        if not isinstance(rights, list) or not rights:
            raise _bad("The 'rights' of an authorization rule must list at least one of Listen, Send, Manage.")
        unknown = [r for r in rights if r not in ("Listen", "Send", "Manage")]
        if unknown:
            raise _bad(f"The access rights {unknown} are not valid. Allowed values: Listen, Send, Manage.")
        if "Manage" in rights and not {"Listen", "Send"} <= set(rights):
            raise _bad("The 'Manage' right requires the 'Listen' and 'Send' rights as well.")
        if req.is_create and req.parent is not None and len(ctx.children(req.parent.id, self.type)) >= 12:
            raise ArmError(400, "QuotaExceeded", "The maximum number of authorization rules (12) has been reached.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        body["type"] = self.answer_type
        body["properties"] = {"rights": list(dict.fromkeys(req.properties["rights"]))}
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        if "primaryKey" not in resource.internal:
            resource.internal.update(_new_keys(ctx))

    def _namespace_and_entity(self, resource: Resource) -> tuple[str, str | None]:
        match = re.search(r"(?i)/namespaces/([^/]+)(?:/eventhubs/([^/]+))?/authorizationRules/", resource.id)
        assert match is not None
        return match.group(1), match.group(2)

    def list_keys(self, ctx: Ctx, resource: Resource, body: dict[str, Any]) -> ActionResult:
        namespace, hub = self._namespace_and_entity(resource)
        keys = resource.internal
        entity = f";EntityPath={hub}" if hub else ""

        def connection(key: str) -> str:
            return (f"Endpoint=sb://{namespace.lower()}.servicebus.windows.net/;SharedAccessKeyName={resource.name};"
                    f"SharedAccessKey={key}{entity}")

        return ActionResult(200, {
            "primaryConnectionString": connection(keys["primaryKey"]),
            "secondaryConnectionString": connection(keys["secondaryKey"]),
            "primaryKey": keys["primaryKey"],
            "secondaryKey": keys["secondaryKey"],
            "keyName": resource.name,
        })

    def regenerate_keys(self, ctx: Ctx, resource: Resource, body: dict[str, Any]) -> ActionResult:
        key_type = body.get("keyType")
        if key_type not in ("PrimaryKey", "SecondaryKey"):
            raise _bad(f"The keyType '{key_type}' is not valid. Allowed values: PrimaryKey, SecondaryKey.")
        field = "primaryKey" if key_type == "PrimaryKey" else "secondaryKey"
        supplied = body.get("key")
        if supplied is not None and len(str(supplied)) != 44:
            raise _bad("The supplied key must be a base64-encoded 256-bit value (44 characters).")
        resource.internal[field] = str(supplied) if supplied else ctx.new_key(32)
        return self.list_keys(ctx, resource, {})


class NamespaceAuthorizationRules(_AuthorizationRules):
    type = NS_RULES
    answer_type = "Microsoft.EventHub/Namespaces/AuthorizationRules"


class EventHubAuthorizationRules(_AuthorizationRules):
    type = HUB_RULES
    answer_type = "Microsoft.EventHub/Namespaces/EventHubs/AuthorizationRules"


class NetworkRuleSets(ResourceType):
    type = NETWORK_RULES
    location = "none"
    tags = False
    put = SYNC_200
    patch = None
    delete = SYNC_DELETE

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        if req.name != "default":
            raise _bad("The only network rule set of a namespace is named 'default'.")
        props = req.properties
        if props.get("defaultAction", "Allow") not in ("Allow", "Deny"):
            raise _bad("The 'defaultAction' must be Allow or Deny.")
        if props.get("publicNetworkAccess", "Enabled") not in ("Enabled", "Disabled", "SecuredByPerimeter"):
            raise _bad("The 'publicNetworkAccess' must be Enabled, Disabled or SecuredByPerimeter.")
        ip_rules = props.get("ipRules") or []
        vnet_rules = props.get("virtualNetworkRules") or []
        if (ip_rules or vnet_rules) and _tier(req.parent) == "Basic":
            raise _bad("IP firewall and virtual network rules are not supported in the Basic tier.")
        for rule in ip_rules:
            mask = str(rule.get("ipMask", ""))
            if not re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}(/\d{1,2})?", mask):
                raise _bad(f"The IP mask '{mask}' is not a valid IPv4 address or CIDR range.")
            if rule.get("action", "Allow") != "Allow":
                raise _bad("The only action of an IP rule is 'Allow'.")
        for rule in vnet_rules:
            subnet_id = str((rule.get("subnet") or {}).get("id", ""))
            subnet = ctx.get(subnet_id)
            if subnet is None:
                raise _bad(f"The subnet '{subnet_id}' of a virtual network rule does not exist.")
            endpoints = {str(e.get("service", "")).lower() for e in subnet.properties.get("serviceEndpoints") or []}
            if "microsoft.eventhub" not in endpoints and not rule.get("ignoreMissingVnetServiceEndpoint"):
                raise _bad(f"The subnet '{subnet_id}' has no 'Microsoft.EventHub' service endpoint; add it or set "
                           "ignoreMissingVnetServiceEndpoint.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        body["type"] = "Microsoft.EventHub/Namespaces/NetworkRuleSets"
        if req.parent is not None and req.parent.location:
            body["location"] = req.parent.location
        props = body["properties"]
        fill_defaults(props, {"defaultAction": "Allow", "publicNetworkAccess": "Enabled", "ipRules": [],
                              "virtualNetworkRules": [], "trustedServiceAccessEnabled": False})
        for rule in props["ipRules"]:
            rule.setdefault("action", "Allow")
        for rule in props["virtualNetworkRules"]:
            rule.setdefault("ignoreMissingVnetServiceEndpoint", False)
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        namespace = req.parent
        if namespace is not None:
            # The namespace and its network rule set report the same public network access.
            namespace.properties["publicNetworkAccess"] = resource.properties["publicNetworkAccess"]

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        raise ArmError(405, "MethodNotAllowed", "The network rule set of a namespace cannot be deleted; set "
                       "defaultAction 'Allow' and empty rules instead.")


def check_name_availability(ctx: Ctx, scope: str, body: dict[str, Any]) -> ActionResult:
    name = str((body or {}).get("name", ""))
    if not (6 <= len(name) <= 50 and re.fullmatch(NAMESPACE_PATTERN, name)):
        return ActionResult(200, {"nameAvailable": False, "reason": "InvalidName", "message": NAME_HINT})
    if ctx.find(NAMESPACES, name=name):
        return ActionResult(200, {"nameAvailable": False, "reason": "NameInUse",
                                  "message": f"The specified name '{name}' is not available."})
    return ActionResult(200, {"nameAvailable": True, "reason": "None", "message": ""})


RESOURCE_TYPES: list[ResourceType] = [Namespaces(), EventHubs(), ConsumerGroups(), NamespaceAuthorizationRules(),
                                      EventHubAuthorizationRules(), NetworkRuleSets()]
PROVIDER_ACTIONS = {"Microsoft.EventHub/checkNameAvailability": check_name_availability}

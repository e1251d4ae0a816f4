"""Microsoft.Network: virtual networks and subnets, NSGs and rules, private endpoints (+ DNS zone groups),
network watchers and flow logs. Private DNS zones live in privatedns.py; public IP addresses, WAF policies and
application gateways in applicationgateway.py.

Inline children (VNet `subnets`, NSG `securityRules`) are stored only as child records; the parent's GET
composes them, so the inline and child views can never disagree.
"""

from __future__ import annotations

import copy
import ipaddress
import re
from typing import Any

from ..framework import (
    NETWORK_DELETE,
    NETWORK_PUT,
    ArmError,
    Ctx,
    Lro,
    NameRule,
    OpStyle,
    Resource,
    ResourceType,
    WriteRequest,
    fill_defaults,
    id_equal,
)

NS = "Microsoft.Network"
VNET = f"{NS}/virtualNetworks"
SUBNET = f"{NS}/virtualNetworks/subnets"
NSG = f"{NS}/networkSecurityGroups"
RULE = f"{NS}/networkSecurityGroups/securityRules"
PE = f"{NS}/privateEndpoints"
DNS_GROUP = f"{NS}/privateEndpoints/privateDnsZoneGroups"
WATCHER = f"{NS}/networkWatchers"
FLOWLOG = f"{NS}/networkWatchers/flowLogs"
TAGS_PATCH = OpStyle(Lro.NONE, done=200)  # PATCH on network resources updates tags only, synchronously
NETWORK_PENDING = {"create": "Updating", "update": "Updating", "delete": "Deleting"}

GENERIC_NAME = NameRule(
    1, 80, r"[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?",
    "The name must begin with a letter or number, end with a letter, number or underscore, and may contain only "
    "letters, numbers, underscores, periods, or hyphens.",
)
VNET_NAME = NameRule(2, 64, r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9_]", GENERIC_NAME.hint)

PAIRED = {"westeurope": "northeurope", "northeurope": "westeurope", "eastus": "westus", "westus": "eastus"}
# Actions Azure fills into a subnet delegation, per delegated service.
DELEGATION_ACTIONS = {
    "microsoft.dbforpostgresql/flexibleservers": ["Microsoft.Network/virtualNetworks/subnets/join/action"],
    "microsoft.web/serverfarms": ["Microsoft.Network/virtualNetworks/subnets/action"],
    "microsoft.containerinstance/containergroups": ["Microsoft.Network/virtualNetworks/subnets/action"],
    "microsoft.app/environments": ["Microsoft.Network/virtualNetworks/subnets/join/action"],
}
# Private link group IDs per target type, and the public FQDN a private endpoint resolves for it.
PRIVATE_LINK_GROUPS: dict[str, dict[str, str]] = {
    "microsoft.keyvault/vaults": {"vault": "{name}.vault.azure.net"},
    "microsoft.storage/storageaccounts": {g: f"{{name}}.{g}.core.windows.net"
                                          for g in ("blob", "file", "queue", "table", "web", "dfs")},
    "microsoft.dbforpostgresql/flexibleservers": {"postgresqlServer": "{name}.postgres.database.azure.com"},
    "microsoft.cache/redis": {"redisCache": "{name}.redis.cache.windows.net"},
    "microsoft.eventhub/namespaces": {"namespace": "{name}.servicebus.windows.net"},
    "microsoft.containerregistry/registries": {"registry": "{name}.azurecr.io"},
    "microsoft.insights/privatelinkscopes": {"azuremonitor": "api.monitor.azure.com"},
}
# References that make a subnet "in use" only when they come from these properties (not from flow logs etc.).
NOT_BLOCKING_TYPES = {FLOWLOG.lower(), f"{NS}/privateDnsZones/virtualNetworkLinks".lower()}


def _net(prefix: Any, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(prefix), strict=True)
    except ValueError as exc:
        try:
            fixed = ipaddress.ip_network(str(prefix), strict=False)
        except ValueError:
            raise ArmError(400, "InvalidAddressPrefixFormat",
                           f"Address prefix {prefix} of resource {where} is not formatted correctly. It should "
                           "follow CIDR notation, for example 10.0.0.0/24.") from exc
        raise ArmError(400, "InvalidCIDRNotation",
                       f"The address prefix {prefix} in resource {where} has an invalid CIDR notation. For the "
                       f"given prefix length, the address prefix should be {fixed}.") from exc


def _subnet_prefixes(props: dict[str, Any], where: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    raw: list[Any] = []
    if props.get("addressPrefix"):
        raw.append(props["addressPrefix"])
    raw.extend(props.get("addressPrefixes") or [])
    return [_net(p, where) for p in raw]


def _overlaps(a: Any, b: Any) -> bool:
    return a.version == b.version and a.overlaps(b)


def _pending_in_vnet(ctx: Ctx, vnet_id: str, own_id: str | None = None) -> None:
    op = ctx.pending_operation(vnet_id)
    if op is not None and not id_equal(op["resource_id"], own_id):
        raise ArmError(
            409,
            "AnotherOperationInProgress",
            f"Operation on resource {own_id or vnet_id} cannot be performed because another operation on this or "
            f"a dependent resource ({op['resource_id']}) is in progress. Retry the request later.",
        )


def check_subnet(ctx: Ctx, vnet_name: str, vnet_prefixes: list[Any], subnet_id: str, name: str,
                 props: dict[str, Any], siblings: list[tuple[str, list[Any]]], vnet_location: str | None) -> None:
    """Azure's subnet rules: a prefix, inside the VNet, disjoint from siblings, valid references."""
    prefixes = _subnet_prefixes(props, subnet_id)
    if not prefixes:
        raise ArmError(400, "SubnetMissingAddressPrefix",
                       f"Subnet '{name}' must have an address prefix (addressPrefix or addressPrefixes).")
    for prefix in prefixes:
        if not any(prefix.version == v.version and prefix.subnet_of(v) for v in vnet_prefixes):  # type: ignore[arg-type]
            raise ArmError(400, "NetcfgSubnetRangeOutsideVnet",
                           f"Subnet '{name}' is not valid because its IP address range is outside the IP address "
                           f"range of virtual network '{vnet_name}'.")
        for other_name, other_prefixes in siblings:
            if any(_overlaps(prefix, o) for o in other_prefixes):
                raise ArmError(400, "NetcfgSubnetRangesOverlap",
                               f"Subnet '{name}' is not valid because its IP address range overlaps with that of an "
                               f"existing subnet '{other_name}' in virtual network '{vnet_name}'.")
    for key in ("networkSecurityGroup", "routeTable", "natGateway"):
        ref = props.get(key)
        if isinstance(ref, dict) and ref.get("id"):
            target = ctx.get(str(ref["id"]))
            if target is None:
                raise ArmError(400, "InvalidResourceReference",
                               f"Resource {ref['id']} referenced by resource {subnet_id} was not found. Please make "
                               "sure that the referenced resource exists, and that both resources are in the same "
                               "region.")
            if vnet_location and target.location and target.location != vnet_location:
                raise ArmError(400, "InvalidResourceReference",
                               f"Resource {ref['id']} referenced by resource {subnet_id} is in region "
                               f"'{target.location}', but the virtual network is in '{vnet_location}'. Both "
                               "resources must be in the same region.")
    delegations = props.get("delegations") or []
    if len({str(d.get("properties", {}).get("serviceName", "")).lower() for d in delegations}) > 1:
        raise ArmError(400, "SubnetCannotHaveMultipleDelegations",
                       f"Subnet '{name}' cannot have delegations to more than one service.")
    for delegation in delegations:
        service = str((delegation.get("properties") or {}).get("serviceName") or "")
        if not re.fullmatch(r"[A-Za-z0-9.]+/[A-Za-z0-9/]+", service):
            raise ArmError(400, "InvalidServiceNameOnDelegation",
                           f"Delegation {delegation.get('name')} on subnet '{name}' has an invalid service name "
                           f"'{service}'.")


def build_subnet_body(ctx: Ctx, subnet_id: str, name: str, request_props: dict[str, Any], vnet_location: str | None,
                      previous: dict[str, Any] | None) -> dict[str, Any]:
    props = copy.deepcopy(request_props)
    for key in ("provisioningState", "ipConfigurations", "privateEndpoints", "resourceNavigationLinks",
                "serviceAssociationLinks", "purpose"):
        props.pop(key, None)
    fill_defaults(props, {"privateEndpointNetworkPolicies": "Disabled", "privateLinkServiceNetworkPolicies": "Enabled"})
    delegations = []
    for delegation in props.get("delegations") or []:
        d_name = str(delegation.get("name") or "delegation")
        d_props = copy.deepcopy(delegation.get("properties") or {})
        service = str(d_props.get("serviceName", ""))
        d_props["actions"] = DELEGATION_ACTIONS.get(service.lower(), d_props.get("actions") or [])
        d_props["provisioningState"] = "Succeeded"
        delegations.append({"name": d_name, "id": f"{subnet_id}/delegations/{d_name}",
                            "type": f"{SUBNET}/delegations", "etag": previous.get("etag") if previous else None,
                            "properties": d_props})
    props["delegations"] = delegations
    endpoints = []
    for endpoint in props.get("serviceEndpoints") or []:
        service = str(endpoint.get("service", ""))
        loc = vnet_location or "*"
        locations = endpoint.get("locations") or (
            [loc, PAIRED.get(loc, loc)] if service == "Microsoft.Storage"
            else [loc] if service == "Microsoft.Sql" else ["*"])
        endpoints.append({"service": service, "locations": locations, "provisioningState": "Succeeded"})
    props["serviceEndpoints"] = endpoints
    for key in ("networkSecurityGroup", "routeTable", "natGateway"):
        ref = props.get(key)
        if isinstance(ref, dict) and ref.get("id"):
            target = ctx.get(str(ref["id"]))
            props[key] = {"id": target.id if target else ref["id"]}
    return {"name": name, "id": subnet_id, "type": SUBNET, "properties": props}


def _in_use_by(ctx: Ctx, resource_id: str) -> list[Resource]:
    return [r for r in ctx.references_to(resource_id) if r.type.lower() not in NOT_BLOCKING_TYPES]


class _NetworkResource(ResourceType):
    """What Microsoft.Network resources share: etags, PUT as an LRO, tags-only PATCH, provisioning states."""

    etag = True
    put = NETWORK_PUT
    patch = TAGS_PATCH
    delete = NETWORK_DELETE
    pending_state = NETWORK_PENDING


class _NetworkChild(_NetworkResource):
    """A child resource ARM also returns inline in its parent (no location, tags or PATCH of its own)."""

    name_rule = GENERIC_NAME
    location = "none"
    tags = False
    system_data = False
    patch = None


class VirtualNetworks(_NetworkResource):
    type = VNET
    name_rule = VNET_NAME
    latency_s = 8.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        props = req.properties
        _pending_in_vnet(ctx, req.id)
        space = [_net(p, req.id) for p in ((props.get("addressSpace") or {}).get("addressPrefixes") or [])]
        if not space:
            raise ArmError(400, "VnetAddressSpaceMustHaveAtLeastOneAddressPrefix",
                           f"Virtual network {req.id} must have at least one address prefix in its address space.")
        for i, a in enumerate(space):
            for b in space[i + 1:]:
                if _overlaps(a, b):
                    raise ArmError(400, "VnetAddressSpacesOverlap",
                                   f"Address space {a} overlaps with address space {b} of virtual network {req.name}.")
        location = (req.body.get("location") or (req.existing.location if req.existing else "") or "")
        location = re.sub(r"\s+", "", str(location)).lower()
        wanted = props.get("subnets") or []
        seen: list[tuple[str, list[Any]]] = []
        names = set()
        for subnet in wanted:
            name = str(subnet.get("name") or "")
            if not name:
                raise ArmError(400, "InvalidRequestFormat", "Each subnet in the request must have a name.")
            if name.lower() in names:
                raise ArmError(400, "DuplicateResourceName",
                               f"Virtual network {req.name} has two subnets with the same name '{name}'.")
            names.add(name.lower())
            GENERIC_NAME.check(name, SUBNET)
            subnet_id = f"{req.id}/subnets/{name}"
            sprops = subnet.get("properties") or {}
            check_subnet(ctx, req.name, space, subnet_id, name, sprops, seen, location)
            existing = ctx.get(subnet_id)
            if existing is not None:
                _check_prefix_change(ctx, existing, sprops)
                _check_delegation_change(ctx, existing, sprops)
            seen.append((name, _subnet_prefixes(sprops, subnet_id)))
        if req.existing is not None:
            for child in ctx.children(req.id, SUBNET):
                if child.name.lower() not in names:
                    _refuse_if_in_use(ctx, child)

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        props.pop("subnets", None)  # stored as child records, composed by render()
        previous = req.existing.properties if req.existing else {}
        fill_defaults(props, {"dhcpOptions": {"dnsServers": []}, "enableDdosProtection": False,
                              "virtualNetworkPeerings": [], "privateEndpointVNetPolicies": "Disabled"})
        props["resourceGuid"] = previous.get("resourceGuid") or ctx.new_guid()
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        wanted = {str(s.get("name")).lower(): s for s in (req.properties.get("subnets") or [])}
        for child in ctx.children(resource.id, SUBNET):
            if child.name.lower() not in wanted:
                ctx.delete_record(child.id)
        for subnet in req.properties.get("subnets") or []:
            name = str(subnet["name"])
            subnet_id = f"{resource.id}/subnets/{name}"
            existing = ctx.get(subnet_id)
            body = build_subnet_body(ctx, existing.id if existing else subnet_id, existing.name if existing else name,
                                     subnet.get("properties") or {}, resource.location,
                                     existing.body if existing else None)
            body["etag"] = resource.body.get("etag")
            body["properties"]["provisioningState"] = "Succeeded"
            ctx.put_record(body["id"], SUBNET, body)

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        subnet_type = ctx.type_of(SUBNET)
        assert subnet_type is not None
        children = sorted(ctx.children(resource.id, SUBNET), key=lambda r: r.name.lower())
        body["properties"]["subnets"] = [subnet_type.render(ctx, c) for c in children]
        return body

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        _pending_in_vnet(ctx, resource.id, resource.id)
        for child in ctx.children(resource.id, SUBNET):
            _refuse_if_in_use(ctx, child)


def _refuse_if_in_use(ctx: Ctx, subnet: Resource) -> None:
    users = _in_use_by(ctx, subnet.id)
    if users:
        raise ArmError(400, "InUseSubnetCannotBeDeleted",
                       f"Subnet {subnet.name} is in use by {users[0].id} and cannot be deleted. In order to delete the "
                       "subnet, delete all the resources within the subnet. See aka.ms/deletesubnet.")


def _check_prefix_change(ctx: Ctx, existing: Resource, new_props: dict[str, Any]) -> None:
    old = sorted(str(p) for p in _subnet_prefixes(existing.properties, existing.id))
    new = sorted(str(p) for p in _subnet_prefixes(new_props, existing.id))
    if old != new:
        users = _in_use_by(ctx, existing.id)
        if users:
            raise ArmError(400, "InUseSubnetCannotBeUpdated",
                           f"Subnet {existing.name} is in use by {users[0].id} and its address prefix cannot be "
                           "updated.")


def _check_delegation_change(ctx: Ctx, existing: Resource, new_props: dict[str, Any]) -> None:
    """A subnet that holds private endpoints cannot be delegated (a delegated subnet takes none)."""
    before = {str((d.get("properties") or {}).get("serviceName") or "").lower()
              for d in existing.properties.get("delegations") or []}
    added = [str((d.get("properties") or {}).get("serviceName") or "")
             for d in new_props.get("delegations") or []
             if str((d.get("properties") or {}).get("serviceName") or "").lower() not in before]
    if not added:
        return
    endpoints = [pe for pe in ctx.find(PE) if id_equal((pe.properties.get("subnet") or {}).get("id"), existing.id)]
    if endpoints:
        raise ArmError(400, "SubnetWithPrivateEndpointCannotBeDelegated",
                       f"Subnet {existing.name} holds private endpoint {endpoints[0].id} and cannot be delegated to "
                       f"{added[0]}: a delegated subnet takes no private endpoints. Delete the endpoint first.")


class Subnets(_NetworkChild):
    type = SUBNET
    latency_s = 6.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        vnet = req.parent
        assert vnet is not None
        _pending_in_vnet(ctx, vnet.id, req.id)
        space = [_net(p, vnet.id) for p in (vnet.properties.get("addressSpace") or {}).get("addressPrefixes") or []]
        siblings = [(c.name, _subnet_prefixes(c.properties, c.id)) for c in ctx.children(vnet.id, SUBNET)
                    if not id_equal(c.id, req.id)]
        check_subnet(ctx, vnet.name, space, req.id, req.name, req.properties, siblings, vnet.location)
        if req.existing is not None:
            _check_prefix_change(ctx, req.existing, req.properties)
            _check_delegation_change(ctx, req.existing, req.properties)

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        vnet = req.parent
        assert vnet is not None
        return build_subnet_body(ctx, req.id, req.name, req.properties, vnet.location,
                                 req.existing.body if req.existing else None)

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        endpoints = [{"id": pe.id} for pe in ctx.find(PE)
                     if id_equal(((pe.properties.get("subnet") or {}).get("id")), resource.id)]
        if endpoints:
            body["properties"]["privateEndpoints"] = endpoints
        return body

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        _pending_in_vnet(ctx, resource.parent_id, resource.id)
        _refuse_if_in_use(ctx, resource)


# --- network security groups ---------------------------------------------------------------------------------
DEFAULT_RULES = [
    ("AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", "Allow", "Inbound", 65000, "VirtualNetwork",
     "VirtualNetwork"),
    ("AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer", "Allow", "Inbound", 65001,
     "AzureLoadBalancer", "*"),
    ("DenyAllInBound", "Deny all inbound traffic", "Deny", "Inbound", 65500, "*", "*"),
    ("AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET", "Allow", "Outbound", 65000,
     "VirtualNetwork", "VirtualNetwork"),
    ("AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", "Allow", "Outbound", 65001, "*",
     "Internet"),
    ("DenyAllOutBound", "Deny all outbound traffic", "Deny", "Outbound", 65500, "*", "*"),
]
PROTOCOLS = ("Tcp", "Udp", "Icmp", "Esp", "Ah", "*")
PORT_RE = re.compile(r"^(\*|\d{1,5}(-\d{1,5})?)$")


def check_rule(name: str, props: dict[str, Any]) -> None:
    priority = props.get("priority")
    if not isinstance(priority, int) or isinstance(priority, bool) or not 100 <= priority <= 4096:
        raise ArmError(400, "SecurityRuleInvalidPriority",
                       f"Security rule {name} has invalid Priority. Value provided: {priority} Allowed range 100-4096.")
    if props.get("protocol") not in PROTOCOLS:
        raise ArmError(400, "SecurityRuleInvalidProtocol",
                       f"Security rule {name} has invalid Protocol. Value provided: {props.get('protocol')}. Allowed "
                       f"values: {', '.join(PROTOCOLS)}.")
    if props.get("access") not in ("Allow", "Deny"):
        raise ArmError(400, "SecurityRuleInvalidAccess",
                       f"Security rule {name} has invalid Access. Value provided: {props.get('access')}.")
    if props.get("direction") not in ("Inbound", "Outbound"):
        raise ArmError(400, "SecurityRuleInvalidDirection",
                       f"Security rule {name} has invalid Direction. Value provided: {props.get('direction')}.")
    for side in ("source", "destination"):
        ports = [props.get(f"{side}PortRange")] if props.get(f"{side}PortRange") else []
        ports += props.get(f"{side}PortRanges") or []
        if not ports:
            raise ArmError(400, "SecurityRuleParameterMissing",
                           f"Security rule {name} must specify {side}PortRange or {side}PortRanges.")
        for port in ports:
            text = str(port)
            bounds = [int(x) for x in text.split("-")] if PORT_RE.match(text) and text != "*" else []
            reversed_range = len(bounds) == 2 and bounds[0] > bounds[1]
            if not PORT_RE.match(text) or any(b > 65535 for b in bounds) or reversed_range:
                raise ArmError(400, "SecurityRuleInvalidPortRange",
                               f"Security rule {name} has invalid Port range. Value provided: {text}. Value should be "
                               "an integer OR integer range with '-' delimiter. Valid range 0-65535.")
        has_prefix = props.get(f"{side}AddressPrefix") or props.get(f"{side}AddressPrefixes") or props.get(
            f"{side}ApplicationSecurityGroups")
        if not has_prefix:
            raise ArmError(400, "SecurityRuleParameterMissing",
                           f"Security rule {name} must specify {side}AddressPrefix, {side}AddressPrefixes or "
                           f"{side}ApplicationSecurityGroups.")


def check_rule_conflicts(rules: list[tuple[str, dict[str, Any]]]) -> None:
    seen: dict[tuple[str, int], str] = {}
    for name, props in rules:
        key = (str(props.get("direction")), int(props.get("priority", 0)))
        if key in seen:
            raise ArmError(400, "SecurityRuleConflict",
                           f"Security rule {seen[key]} conflicts with rule {name}. Rules cannot have the same "
                           "Priority and Direction. To learn more, see aka.ms/nsgrules.")
        seen[key] = name


def build_rule_body(rule_id: str, name: str, props: dict[str, Any], etag: str | None) -> dict[str, Any]:
    clean = copy.deepcopy(props)
    clean.pop("provisioningState", None)
    fill_defaults(clean, {"sourceAddressPrefixes": [], "destinationAddressPrefixes": [], "sourcePortRanges": [],
                          "destinationPortRanges": []})
    return {"name": name, "id": rule_id, "type": RULE, "etag": etag, "properties": clean}


class NetworkSecurityGroups(_NetworkResource):
    type = NSG
    name_rule = GENERIC_NAME
    latency_s = 10.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        rules = []
        for rule in req.properties.get("securityRules") or []:
            name = str(rule.get("name") or "")
            GENERIC_NAME.check(name, RULE)
            check_rule(name, rule.get("properties") or {})
            rules.append((name, rule.get("properties") or {}))
        check_rule_conflicts(rules)

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        props.pop("securityRules", None)
        for key in ("defaultSecurityRules", "subnets", "networkInterfaces", "flowLogs"):
            props.pop(key, None)
        previous = req.existing.properties if req.existing else {}
        props["resourceGuid"] = previous.get("resourceGuid") or ctx.new_guid()
        return body

    def after_write(self, ctx: Ctx, resource: Resource, req: WriteRequest) -> None:
        wanted = {str(r.get("name")).lower(): r for r in (req.properties.get("securityRules") or [])}
        for child in ctx.children(resource.id, RULE):
            if child.name.lower() not in wanted:
                ctx.delete_record(child.id)
        for rule in req.properties.get("securityRules") or []:
            rule_id = f"{resource.id}/securityRules/{rule['name']}"
            body = build_rule_body(rule_id, str(rule["name"]), rule.get("properties") or {}, resource.body.get("etag"))
            body["properties"]["provisioningState"] = "Succeeded"
            ctx.put_record(rule_id, RULE, body)

    def render(self, ctx: Ctx, resource: Resource) -> dict[str, Any]:
        body = copy.deepcopy(resource.body)
        props = body["properties"]
        rules = sorted(ctx.children(resource.id, RULE), key=lambda r: r.name.lower())
        props["securityRules"] = [copy.deepcopy(r.body) for r in rules]
        props["defaultSecurityRules"] = [
            {"name": n, "id": f"{resource.id}/defaultSecurityRules/{n}", "type": f"{NSG}/defaultSecurityRules",
             "etag": body.get("etag"),
             "properties": {"description": d, "protocol": "*", "sourcePortRange": "*", "destinationPortRange": "*",
                            "sourceAddressPrefix": src, "destinationAddressPrefix": dst, "access": a, "priority": p,
                            "direction": direction, "sourceAddressPrefixes": [], "destinationAddressPrefixes": [],
                            "sourcePortRanges": [], "destinationPortRanges": [], "provisioningState": "Succeeded"}}
            for n, d, a, direction, p, src, dst in DEFAULT_RULES
        ]
        subnets = [{"id": s.id} for s in ctx.find(SUBNET)
                   if id_equal((s.properties.get("networkSecurityGroup") or {}).get("id"), resource.id)]
        if subnets:
            props["subnets"] = subnets
        return body

    def before_delete(self, ctx: Ctx, resource: Resource) -> None:
        users = [s.id for s in ctx.find(SUBNET)
                 if id_equal((s.properties.get("networkSecurityGroup") or {}).get("id"), resource.id)]
        if users:
            raise ArmError(400, "InUseNetworkSecurityGroupCannotBeDeleted",
                           f"Network security group {resource.id} cannot be deleted because it is in use by the "
                           f"following resources: {', '.join(users)}. In order to delete the Network security group, "
                           "remove the association with the resource(s).")


class SecurityRules(_NetworkChild):
    type = RULE
    latency_s = 5.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        assert req.parent is not None
        check_rule(req.name, req.properties)
        rules = [(c.name, c.properties) for c in ctx.children(req.parent.id, RULE) if not id_equal(c.id, req.id)]
        check_rule_conflicts([*rules, (req.name, req.properties)])

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        return build_rule_body(req.id, req.name, req.properties, None)


# --- private endpoints -------------------------------------------------------------------------------------
class PrivateEndpoints(_NetworkResource):
    type = PE
    name_rule = VNET_NAME
    latency_s = 180.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        subnet_ref = (req.properties.get("subnet") or {}).get("id")
        subnet = ctx.get(str(subnet_ref or ""))
        if subnet is None:
            raise ArmError(400, "InvalidResourceReference",
                           f"Resource {subnet_ref} referenced by resource {req.id} was not found. Please make sure "
                           "that the referenced resource exists, and that both resources are in the same region.")
        gateways = [g.id for g in ctx.find(f"{NS}/applicationGateways")
                    if any(id_equal(((c.get("properties") or {}).get("subnet") or {}).get("id"), subnet.id)
                           for c in g.properties.get("gatewayIPConfigurations") or [])]
        if gateways:
            # An application gateway's subnet holds application gateways only.
            raise ArmError(400, "SubnetUsedByApplicationGateway",
                           f"Private endpoint {req.id} cannot be created in subnet {subnet.id}: it holds application "
                           f"gateway {gateways[0]}, and an application gateway's subnet holds nothing else.")
        if subnet.properties.get("delegations"):
            raise ArmError(400, "PrivateEndpointCannotBeCreatedInSubnetThatHasDelegations",
                           f"Private endpoint {req.id} cannot be created in a subnet {subnet.id} since it has "
                           "delegations.")
        vnet = ctx.get(subnet.parent_id)
        location = re.sub(r"\s+", "", str(req.body.get("location") or "")).lower()
        if vnet is not None and vnet.location != location:
            raise ArmError(400, "InvalidResourceReference",
                           f"Resource {subnet.id} referenced by resource {req.id} is in region '{vnet.location}', "
                           f"but the private endpoint is in '{location}'.")
        connections = list(req.properties.get("privateLinkServiceConnections") or []) + list(
            req.properties.get("manualPrivateLinkServiceConnections") or [])
        if not connections:
            raise ArmError(400, "PrivateEndpointMustHaveOneConnection",
                           f"Private endpoint {req.id} must have exactly one private link service connection.")
        for connection in connections:
            cprops = connection.get("properties") or {}
            target_id = str(cprops.get("privateLinkServiceId") or "")
            target = ctx.get(target_id)
            if target is None:
                raise ArmError(400, "PrivateLinkServiceNotFound",
                               f"Private link service {target_id} referenced by private endpoint {req.id} was not "
                               "found.")
            groups = cprops.get("groupIds") or []
            known = PRIVATE_LINK_GROUPS.get(target.type.lower())
            if known is not None and (len(groups) != 1 or groups[0] not in known):
                raise ArmError(400, "PrivateEndpointBadRequest",
                               f"Call to {target.type} failed. Error message: Invalid group id(s) "
                               f"{groups}; valid group ids are {sorted(known)}.")
            # Container registries offer private link on the Premium service tier only.
            if target.type.lower() == "microsoft.containerregistry/registries" \
                    and (target.body.get("sku") or {}).get("name") != "Premium":
                raise ArmError(400, "PrivateEndpointBadRequest",
                               f"Call to {target.type} failed. Error message: private endpoints are only "
                               "supported by Premium registries.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        subnet = ctx.get(str(props["subnet"]["id"]))
        assert subnet is not None
        props["subnet"] = {"id": subnet.id}
        previous = req.existing.properties if req.existing else {}
        nic_name = props.get("customNetworkInterfaceName") or f"{req.name}.nic.{ctx.new_guid()}"
        props["networkInterfaces"] = previous.get("networkInterfaces") or [
            {"id": f"{req.id.split('/providers/')[0]}/providers/{NS}/networkInterfaces/{nic_name}"}]
        static = [c.get("properties", {}).get("privateIPAddress") for c in props.get("ipConfigurations") or []]
        ip = (static[0] if static and static[0] else None) or (
            (previous.get("customDnsConfigs") or [{}])[0].get("ipAddresses", [None])[0] or _next_ip(ctx, subnet))
        dns_configs = []
        for key in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
            conns = []
            for connection in props.get(key) or []:
                cname = str(connection.get("name") or req.name)
                cprops = copy.deepcopy(connection.get("properties") or {})
                target = ctx.get(str(cprops.get("privateLinkServiceId")))
                assert target is not None
                cprops["privateLinkServiceId"] = target.id
                cprops["privateLinkServiceConnectionState"] = (
                    {"status": "Pending", "description": cprops.get("requestMessage") or "", "actionsRequired": "None"}
                    if key.startswith("manual")
                    else {"status": "Approved", "description": "Auto-Approved", "actionsRequired": "None"})
                cprops["provisioningState"] = "Succeeded"
                conns.append({"name": cname, "id": f"{req.id}/{key}/{cname}", "type": f"{PE}/{key}",
                              "etag": None, "properties": cprops})
                for group in cprops.get("groupIds") or []:
                    fqdn = PRIVATE_LINK_GROUPS.get(target.type.lower(), {}).get(group)
                    if fqdn:
                        dns_configs.append({"fqdn": fqdn.format(name=target.name), "ipAddresses": [ip]})
            props[key] = conns
        props["customDnsConfigs"] = dns_configs
        props.setdefault("ipConfigurations", [])
        props.setdefault("applicationSecurityGroups", [])
        return body


def _next_ip(ctx: Ctx, subnet: Resource) -> str:
    prefixes = _subnet_prefixes(subnet.properties, subnet.id)
    used = set()
    for pe in ctx.find(PE):
        if id_equal((pe.properties.get("subnet") or {}).get("id"), subnet.id):
            for cfg in pe.properties.get("customDnsConfigs") or []:
                used.update(cfg.get("ipAddresses") or [])
    for host in list(prefixes[0].hosts())[3:]:  # Azure reserves the first addresses of every subnet
        if str(host) not in used:
            return str(host)
    raise ArmError(400, "SubnetIsFull", f"Subnet {subnet.id} has no free IP addresses.")


class PrivateDnsZoneGroups(_NetworkChild):
    type = DNS_GROUP
    latency_s = 5.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        configs = req.properties.get("privateDnsZoneConfigs") or []
        if not configs or len(configs) > 5:
            raise ArmError(400, "InvalidPrivateDnsZoneConfigs",
                           "A private DNS zone group must have between 1 and 5 private DNS zone configs.")
        parent_id = req.parent.id if req.parent else ""
        others = [c for c in ctx.children(parent_id, DNS_GROUP) if not id_equal(c.id, req.id)]
        if others:
            raise ArmError(400, "OnlyOnePrivateDnsZoneGroupAllowed",
                           f"Private endpoint {req.parent.id if req.parent else ''} already has a private DNS zone "
                           f"group ({others[0].name}); only one is allowed.")
        for config in configs:
            zone_id = str((config.get("properties") or {}).get("privateDnsZoneId") or "")
            if ctx.get(zone_id) is None:
                raise ArmError(400, "InvalidResourceReference",
                               f"Resource {zone_id} referenced by resource {req.id} was not found.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        pe = req.parent
        assert pe is not None
        dns = pe.properties.get("customDnsConfigs") or []
        configs = []
        for config in body["properties"].get("privateDnsZoneConfigs") or []:
            name = str(config.get("name") or "config")
            zone = ctx.get(str(config["properties"]["privateDnsZoneId"]))
            assert zone is not None
            records = []
            for entry in dns:
                label = str(entry["fqdn"]).split(".")[0]
                records.append({"recordType": "A", "recordSetName": label, "fqdn": f"{label}.{zone.name}",
                                "ttl": 10, "ipAddresses": entry.get("ipAddresses", []),
                                "provisioningState": "Succeeded"})
            configs.append({"name": name, "id": f"{req.id}/privateDnsZoneConfigs/{name}",
                            "properties": {"privateDnsZoneId": zone.id, "recordSets": records}})
        body["properties"]["privateDnsZoneConfigs"] = configs
        return body


# --- network watchers and flow logs ------------------------------------------------------------------------
class NetworkWatchers(_NetworkResource):
    type = WATCHER
    name_rule = GENERIC_NAME
    put = OpStyle(Lro.NONE, done=200, created_done=201)
    latency_s = 5.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        location = re.sub(r"\s+", "", str(req.body.get("location") or "")).lower()
        for other in ctx.find(WATCHER):
            if other.subscription_id == (ctx.subscription_id or "").lower() and other.location == location \
                    and not id_equal(other.id, req.id):
                raise ArmError(400, "NetworkWatcherCountLimitReached",
                               "Cannot create more than 1 network watchers for this subscription in this region.")


class FlowLogs(_NetworkResource):
    type = FLOWLOG
    name_rule = GENERIC_NAME
    latency_s = 5.0

    def validate(self, ctx: Ctx, req: WriteRequest) -> None:
        watcher = req.parent
        assert watcher is not None
        props = req.properties
        location = re.sub(r"\s+", "", str(req.body.get("location") or "")).lower()
        if location != watcher.location:
            raise ArmError(400, "FlowLogLocationMismatch",
                           f"Flow log location '{location}' must match the network watcher location "
                           f"'{watcher.location}'.")
        target_id = str(props.get("targetResourceId") or "")
        target = ctx.get(target_id)
        if target is None:
            raise ArmError(400, "InvalidTargetResourceId" if target_id else "TargetResourceIdRequired",
                           f"Target resource {target_id} of flow log {req.name} was not found.")
        if target.type.lower() == NSG.lower():
            current = req.existing.properties.get("targetResourceId") if req.existing else None
            if not id_equal(current, target.id):
                raise ArmError(400, "NsgFlowLogCreationBlocked",
                               "Creation of new NSG flow logs is no longer supported: NSG flow logs are retired "
                               "(no new ones since 30 June 2025, retirement on 30 September 2027). Create a virtual "
                               "network flow log on the virtual network, subnet or network interface instead.")
        elif target.type.lower() not in (VNET.lower(), SUBNET.lower(), f"{NS}/networkInterfaces".lower()):
            raise ArmError(400, "InvalidTargetResourceType",
                           f"Flow logs can target virtual networks, subnets or network interfaces, not {target.type}.")
        vnet = target if target.type.lower() == VNET.lower() else ctx.get(target.parent_id)
        if vnet is not None and vnet.location and vnet.location != watcher.location:
            raise ArmError(400, "FlowLogTargetLocationMismatch",
                           f"Target resource {target.id} is in '{vnet.location}'; the network watcher is in "
                           f"'{watcher.location}'. They must be in the same region.")
        storage_id = str(props.get("storageId") or "")
        storage = ctx.get(storage_id)
        if storage is None:
            raise ArmError(400, "InvalidStorageId" if storage_id else "StorageIdRequired",
                           f"Storage account {storage_id} of flow log {req.name} was not found.")
        if storage.location != watcher.location:
            raise ArmError(400, "StorageAccountLocationMismatch",
                           f"Storage account {storage.id} must be in the network watcher's region "
                           f"'{watcher.location}'.")
        days = (props.get("retentionPolicy") or {}).get("days", 0)
        if not isinstance(days, int) or not 0 <= days <= 365:
            raise ArmError(400, "InvalidRetentionPolicyDays",
                           f"Retention policy days must be between 0 and 365; got {days}.")
        analytics = (props.get("flowAnalyticsConfiguration") or {}).get("networkWatcherFlowAnalyticsConfiguration")
        workspace = (analytics or {}).get("workspaceResourceId")
        if analytics and analytics.get("enabled") and workspace and ctx.get(str(workspace)) is None \
                and ctx.type_of("Microsoft.OperationalInsights/workspaces") is not None:
            raise ArmError(400, "InvalidWorkspaceResourceId", f"Log Analytics workspace {workspace} was not found.")

    def build(self, ctx: Ctx, req: WriteRequest) -> dict[str, Any]:
        body = super().build(ctx, req)
        props = body["properties"]
        target = ctx.get(str(props["targetResourceId"]))
        storage = ctx.get(str(props["storageId"]))
        assert target is not None and storage is not None
        props["targetResourceId"] = target.id
        props["storageId"] = storage.id
        props["targetResourceGuid"] = target.properties.get("resourceGuid") or ctx.new_guid()
        fill_defaults(props, {"enabled": True, "retentionPolicy": {"days": 0, "enabled": False},
                              "format": {"type": "JSON", "version": 2}})
        return body


RESOURCE_TYPES: list[ResourceType] = [
    VirtualNetworks(), Subnets(), NetworkSecurityGroups(), SecurityRules(), PrivateEndpoints(),
    PrivateDnsZoneGroups(), NetworkWatchers(), FlowLogs(),
]
